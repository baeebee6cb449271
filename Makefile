# The two commands a new user needs: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
WEB_STAMP := web/node_modules/.installed-stamp

.PHONY: demo test web lint bench-locate bench-fanout bench-audit bench-ingest bench-load bench-body clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

## Browser-side packages (Leaflet) from the npm registry into web/node_modules, again only when web/package.json changes
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	@touch $(WEB_STAMP)

web: $(WEB_STAMP)

## Create/refresh the local SQLite demo database with Greece's boundaries and serve on :8000
demo: $(STAMP) web
	$(BIN)/iolaos demo $(if $(TEAMS),--field-teams $(TEAMS))

## Lint, check the import contracts (pyproject.toml), then run every test (SQLite, and PostgreSQL/PostGIS when
## reachable; CI=true requires it)
test: $(STAMP) web
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench-locate: $(STAMP)
	$(BIN)/python bench/locate.py

bench-fanout: $(STAMP)
	$(BIN)/python bench/fanout.py

bench-audit: $(STAMP)
	$(BIN)/python bench/audit.py

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py

## 500 consoles and 200 field teams for 10 minutes against two instances behind nginx (needs PostgreSQL, Redis, nginx)
bench-load: $(STAMP)
	$(BIN)/python bench/load.py

## Server memory while four clients send 50 MB bodies (413 before reading; docs/benchmarks.md)
bench-body: $(STAMP)
	$(BIN)/python bench/body_limit.py

clean:
	rm -rf $(VENV) web/node_modules .pytest_cache .ruff_cache iolaos.db iolaos.db-wal iolaos.db-shm
