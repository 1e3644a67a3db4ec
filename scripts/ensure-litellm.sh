#!/bin/sh
# A real LiteLLM proxy for the tests: var/litellm-venv with litellm[proxy] and its
# dependencies pinned in requirements/litellm.txt, and this package installed into it
# without its dependencies (editable), as a gateway host installs it for the guardrail
# class policy_engine.integrations.litellm. A virtualenv of its own: LiteLLM's pins clash
# with ours. Cached: a second run returns at once (stamps hold digests of what was installed:
# LiteLLM again only when requirements/litellm.txt changes, this package when pyproject.toml does).
set -eu
PYTHON=${PYTHON:-python3.11}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV="$ROOT/var/litellm-venv"

digest() { sha256sum "$1" | cut -d' ' -f1; }

litellm=$(digest "$ROOT/requirements/litellm.txt")
if ! [ -x "$VENV/bin/litellm" ] || [ "$(cat "$VENV/.litellm" 2>/dev/null)" != "$litellm" ]; then
	echo "ensure-litellm: installing the pinned LiteLLM proxy into var/litellm-venv" \
		"(first run only, a few minutes)" >&2
	rm -rf "$VENV"
	"$PYTHON" -m venv "$VENV"
	"$VENV/bin/pip" install --quiet --upgrade pip
	"$VENV/bin/pip" install --quiet -r "$ROOT/requirements/litellm.txt"
	"$VENV/bin/pip" check >&2 # LiteLLM's own dependencies, before ours (installed without)
	echo "$litellm" >"$VENV/.litellm"
fi

package=$(digest "$ROOT/pyproject.toml")
if [ "$(cat "$VENV/.policy-engine" 2>/dev/null)" != "$package" ]; then
	"$VENV/bin/pip" install --quiet --no-deps -e "$ROOT" >/dev/null 2>&1 \
		|| "$VENV/bin/pip" install --quiet --no-deps -e "$ROOT"
	echo "$package" >"$VENV/.policy-engine"
fi
