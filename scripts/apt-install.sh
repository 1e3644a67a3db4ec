#!/usr/bin/env bash
# Install Debian packages for the tests (needs root or sudo):
#   scripts/apt-install.sh WHO [APT-GET OPTION...] PACKAGE...
# WHO names the calling script in the message.
set -euo pipefail
who="$1"
shift
packages=()
for argument in "$@"; do
    [[ "$argument" == -* ]] || packages+=("$argument")
done
echo "$who: installing the Debian package(s) ${packages[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "$@" > /dev/null
