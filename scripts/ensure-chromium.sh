#!/usr/bin/env bash
# Make sure a headless Chromium and its WebDriver are installed, for the console's browser
# tests (tests/e2e/test_console_browser.py): Debian's 'chromium' and 'chromium-driver',
# installed when missing. Nothing is downloaded when the tests run.
set -euo pipefail
if command -v chromium > /dev/null && command -v chromedriver > /dev/null; then
    exit 0
fi
"$(dirname "$0")/apt-install.sh" ensure-chromium --no-install-recommends \
    chromium chromium-driver fonts-dejavu-core
command -v chromium > /dev/null && command -v chromedriver > /dev/null || {
    echo "ensure-chromium: chromium or chromedriver still missing after installing them" >&2
    exit 1
}
