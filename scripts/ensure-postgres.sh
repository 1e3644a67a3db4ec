#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries (initdb, pg_ctl) are installed, for the tests'
# throw-away cluster. Installs the Debian package when missing (needs root or sudo).
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
    exit 0
fi
echo "ensure-postgres: installing the Debian package 'postgresql'" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql > /dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || {
    echo "ensure-postgres: initdb still missing after installing postgresql" >&2
    exit 1
}
