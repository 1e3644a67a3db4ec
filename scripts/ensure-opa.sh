#!/bin/sh
# Build pinned OPA and Regal binaries into var/bin with the machine's Go, from the Go module
# proxy. Cached: a second run returns at once. Usage: scripts/ensure-opa.sh [opa|regal|all]
set -eu
OPA_VERSION=v1.22.2
REGAL_VERSION=${REGAL_VERSION:-v0.36.1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/var/bin"
mkdir -p "$BIN"
what=${1:-all}

have() { # name version
	[ -x "$BIN/$1" ] && [ -f "$BIN/$1.version" ] && [ "$(cat "$BIN/$1.version")" = "$2" ]
}

build() { # name module version
	if have "$1" "$3"; then return 0; fi
	if ! command -v go >/dev/null 2>&1; then
		echo "ensure-opa: Go is required to build $1 $3 (install golang)" >&2
		exit 1
	fi
	echo "ensure-opa: building $1 $3 from the Go module proxy (first run only)" >&2
	if ! GOBIN="$BIN" go install "$2@$3"; then
		# replace directives refuse `go install pkg@version`: use a throw-away module
		tmp=$(mktemp -d)
		status=0
		(cd "$tmp" && go mod init throwaway/"$1" >/dev/null 2>&1 \
			&& go get "$2@$3" && GOBIN="$BIN" go install "$2") || status=$?
		rm -rf "$tmp"
		[ "$status" -eq 0 ] || return "$status"
	fi
	[ -x "$BIN/$1" ] || return 1
	echo "$3" >"$BIN/$1.version"
}

# Regal is optional: the Go module proxy reachable here answers 403 for every Regal version
# (measured 2026-11), so its absence is reported, not fatal; `make test` lints with it when
# var/bin/regal exists.
try_regal() {
	if ! (build regal github.com/open-policy-agent/regal "$REGAL_VERSION") 2>/dev/null; then
		echo "ensure-opa: Regal $REGAL_VERSION could not be built (not on the Go module proxy?);" \
			"regal lint is skipped" >&2
	fi
}

case "$what" in
opa) build opa github.com/open-policy-agent/opa "$OPA_VERSION" ;;
regal) try_regal ;;
all)
	build opa github.com/open-policy-agent/opa "$OPA_VERSION"
	try_regal
	;;
*) echo "usage: $0 [opa|regal|all]" >&2; exit 2 ;;
esac
