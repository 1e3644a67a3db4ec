#!/usr/bin/env bash
# axe-core, the accessibility rules the console's browser tests run in Chromium, pinned,
# from the npm registry into var/axe (ignored, never committed; cached between runs).
set -euo pipefail
VERSION=4.11.0
cd "$(dirname "$0")/.."
TARGET=var/axe
PACKAGE="$TARGET/node_modules/axe-core"
if [ -f "$PACKAGE/axe.min.js" ] && grep -q "\"version\": \"$VERSION\"" "$PACKAGE/package.json"; then
    exit 0
fi
if ! command -v npm > /dev/null; then
    scripts/apt-install.sh ensure-axe --no-install-recommends npm
fi
mkdir -p "$TARGET"
echo "ensure-axe: installing axe-core $VERSION from the npm registry into $TARGET" >&2
npm install --prefix "$TARGET" --no-save --no-package-lock --no-audit --no-fund --silent \
    "axe-core@$VERSION"
test -f "$PACKAGE/axe.min.js" || {
    echo "ensure-axe: $PACKAGE/axe.min.js still missing after npm install" >&2
    exit 1
}
