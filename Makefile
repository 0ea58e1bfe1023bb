# The README's two commands: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# `make demo` logs for a person in the foreground; production keeps JSON (SHOWFLOOR_LOG_FORMAT=json).
SHOWFLOOR_LOG_FORMAT ?= text
# `make demo NEW_KEY=1` issues a new demo API key instead of reusing the saved one.
NEW_KEY ?=

.PHONY: demo test lint typecheck unit install migrate bench fuzz chaos load clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[server,dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/showfloor admin migrate
	$(BIN)/showfloor admin demo-setup --base-url http://$(HOST):$(PORT) $(if $(NEW_KEY),--new-key)
	SHOWFLOOR_LOG_FORMAT=$(SHOWFLOOR_LOG_FORMAT) $(BIN)/showfloor serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

migrate: $(STAMP)
	$(BIN)/showfloor admin migrate

bench: $(STAMP)
	$(BIN)/python bench/ledger.py

# Long schemathesis run against our own /openapi.json (make test runs 5 examples per operation).
FUZZ_EXAMPLES ?= 250
fuzz: $(STAMP)
	SHOWFLOOR_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/contract/test_fuzz.py

# Fault drills on private PostgreSQL servers: database restart under load, provider outage, worker SIGKILL,
# webhook delivery faults, Redis black-holed/refused/restored.
chaos: $(STAMP)
	$(BIN)/python bench/chaos.py

# Mixed workload against `serve --workers 2` + one worker on PostgreSQL, then a credit reconciliation.
LOAD_ARGS ?=
load: $(STAMP)
	$(BIN)/python bench/load.py $(LOAD_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
