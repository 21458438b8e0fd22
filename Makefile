# quantdesk: `make up` starts the product, `make test` runs the whole suite. Both self-install.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-8)

FRONTEND_STAMP := frontend/node_modules/.installed

.PHONY: install frontend browser up reset test test-unit test-integration lint format contract bench load reliability package deploy destroy cost clean

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

# Forget what the local cloud kept (.local/state): the next `make up` starts fresh.
reset:
	rm -rf .local/state

# dist/ first: the artifact tests inspect the packaged zips and layers (layers cached by pins)
test: install frontend browser package
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
	$(BIN)/python -m infrastructure.package --code-only --out build/lint >/dev/null
	$(BIN)/cfn-lint --ignore-checks W3002 -- build/lint/template.json

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	npm --prefix frontend run --silent format

# Regenerate the HTTP/SSE contract (docs/openapi.json) from the pydantic models and the web UI's
# wire types (frontend/src/lib/wire.gen.ts) from it; `make lint` fails while either is stale.
contract: install $(FRONTEND_STAMP)
	$(BIN)/python -m quantdesk.openapi docs/openapi.json
	npm --prefix frontend run --silent contract

# Everything a deploy needs, in dist/: template.json, function zips, layers built for the Lambda
# runtime (cached in build/layers by pins), the web UI. Prints sizes; fails over 250 MB.
package: install frontend
	$(BIN)/python -m infrastructure.package

# One stage on AWS (the stack quantdesk-$(STAGE)) with the AWS CLI; LOCALSTACK_HOST=host:port
# targets that endpoint instead. Stage name and credentials are checked before anything else.
deploy: install
	PATH="$(CURDIR)/$(BIN):$$PATH" infrastructure/deploy.sh check "$(STAGE)"
	$(MAKE) package
	PATH="$(CURDIR)/$(BIN):$$PATH" infrastructure/deploy.sh deploy "$(STAGE)"

destroy: install
	PATH="$(CURDIR)/$(BIN):$$PATH" infrastructure/deploy.sh destroy "$(STAGE)"

bench: install
	$(BIN)/python -m tests.benchmarks

# AWS cost per 1,000 scenario runs and per daily ingestion, measured in the local cloud
cost: install
	$(BIN)/python -m infrastructure.cost
# 100 concurrent runs x 5 viewers on the local stack (also part of `make bench`)
load: install
	$(BIN)/python -m tests.benchmarks load

# Inject each fault into a running local stack; one table of outcomes
reliability: install frontend
	$(BIN)/python -m tests.reliability

clean:
	rm -rf $(VENV) .local .pytest_cache .mypy_cache .ruff_cache
