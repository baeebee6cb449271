# The two commands a new user needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench-locate clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

## Create/refresh the local SQLite demo database with Greece's boundaries and serve on :8000
demo: $(STAMP)
	$(BIN)/iolaos demo

## Lint, then run every test (SQLite, and PostgreSQL/PostGIS when reachable; CI=true requires it)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench-locate: $(STAMP)
	$(BIN)/python bench/locate.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache iolaos.db iolaos.db-wal iolaos.db-shm
