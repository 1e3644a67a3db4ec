#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries (initdb, pg_ctl) are installed, for the tests'
# throw-away cluster. Installs the Debian package when missing (needs root or sudo).
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
    exit 0
fi
"$(dirname "$0")/apt-install.sh" ensure-postgres postgresql
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || {
    echo "ensure-postgres: initdb still missing after installing postgresql" >&2
    exit 1
}
