# The README's two commands: `make run` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
SYSTEM_PACKAGES := espeak-ng=espeak-ng sox=sox chromium=chromium
BROWSER_DEPS := tests/browser/node_modules/.installed

.PHONY: run test bench lint typecheck setup system clean

setup: $(STAMP) system $(BROWSER_DEPS)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

system:
	@infra/system-packages.sh $(SYSTEM_PACKAGES)

# playwright-core drives Debian's Chromium in the browser tests; no browser is downloaded.
$(BROWSER_DEPS): tests/browser/package-lock.json
	@if command -v npm >/dev/null; then cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: browser tests will skip" >&2; fi

run: setup
	$(BIN)/captions serve

lint: $(STAMP)
	$(BIN)/ruff check services tests
	$(BIN)/ruff format --check services tests

typecheck: $(STAMP)
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m tests.bench.engine
	$(BIN)/python -m tests.bench.server

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
