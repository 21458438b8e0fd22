# quantdesk: `make up` starts the product, `make test` runs the whole suite. Both self-install.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)

FRONTEND_STAMP := frontend/node_modules/.installed

.PHONY: install frontend browser up test test-unit test-integration lint format contract bench template clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	npm --prefix frontend ci --no-audit --no-fund --loglevel=error
	touch $@

FRONTEND_SOURCES := $(shell find frontend/src frontend/next.config.mjs frontend/tsconfig.json -type f 2>/dev/null)

# The static web UI (Next.js export in frontend/out), served by the local origin; rebuilt only
# when its sources change.
frontend/out/index.html: $(FRONTEND_STAMP) $(FRONTEND_SOURCES)
	npm --prefix frontend run build
	touch $@

frontend: frontend/out/index.html

# Headless Chromium for the UI's end-to-end tests (Debian's package; no browser downloads).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

up: install frontend
	$(BIN)/python -m infrastructure.local up

test: install frontend browser
	npm --prefix frontend test
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest tests/integration tests/e2e

lint: install $(FRONTEND_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/core/quantdesk scenarios infrastructure functions
	$(BIN)/python -m quantdesk.openapi --check docs/openapi.json
	npm --prefix frontend run --silent contract:check
	npm --prefix frontend run --silent lint

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	npm --prefix frontend run --silent format

# Regenerate the HTTP/SSE contract (docs/openapi.json) from the pydantic models and the web UI's
# wire types (frontend/src/lib/wire.gen.ts) from it; `make lint` fails while either is stale.
contract: install $(FRONTEND_STAMP)
	$(BIN)/python -m quantdesk.openapi docs/openapi.json
	npm --prefix frontend run --silent contract

# Regenerate the AWS template's resources from infrastructure/resources.py (checked in tests).
template: install
	$(BIN)/python -m infrastructure.template

bench: install
	$(BIN)/python -m tests.benchmarks

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
