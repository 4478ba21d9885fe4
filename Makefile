# The two commands a fresh machine needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Install, then run the main job on the embedded default (SQLite, no services needed).
demo: install
	$(BIN)/silo demo

## Install, then lint, type-check and run the whole suite on SQLite and PostgreSQL.
test: install lint typecheck
	$(BIN)/pytest -q -n 2 --backend all

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -q tests/unit

bench: install
	$(BIN)/silo bench accounts --json

clean:
	rm -rf $(VENV) .silo build *.egg-info
