# The README's two commands: `make run` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PINS := $(shell sha1sum pyproject.toml | cut -c1-12)
# What running needs (the product's packages) and what testing adds (ruff, mypy, pytest...): `make run` installs
# only the first.
RUN_STAMP := $(VENV)/.installed-run-$(PINS)
STAMP := $(VENV)/.installed-dev-$(PINS)
# `make stack` runs Redis and nginx (openssl makes its certificate); the tests also speak (espeak-ng, sox) and
# drive a browser (chromium). `make run` needs none of them.
STACK_PACKAGES := redis-server=redis-server nginx=nginx openssl=openssl
SYSTEM_PACKAGES := espeak-ng=espeak-ng sox=sox chromium=chromium $(STACK_PACKAGES)
BROWSER_DEPS := tests/browser/node_modules/.installed
WEB := apps/angular-captions
WEB_DEPS := $(WEB)/node_modules/.installed
WEB_BUILD := $(WEB)/dist/angular-captions/browser/index.html
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public $(WEB)/scripts shared/schemas -type f -not -path '*/generated/*' 2>/dev/null) \
	$(WEB)/angular.json $(WEB)/package.json $(WEB)/tsconfig.json $(WEB)/tsconfig.app.json

.PHONY: run stack certificate test test-cloud bench soak screenshots lint typecheck web-test setup system stack-system clean

setup: $(STAMP) system $(BROWSER_DEPS)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@ $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@rm -f $(VENV)/.installed-run-* && touch $@

system:
	@infra/system-packages.sh $(SYSTEM_PACKAGES)

stack-system:
	@infra/system-packages.sh $(STACK_PACKAGES)

# playwright-core drives Debian's Chromium in the browser tests; no browser is downloaded.
$(BROWSER_DEPS): tests/browser/package-lock.json
	@if command -v npm >/dev/null; then cd tests/browser && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: browser tests will skip" >&2; fi

# The Angular app (presenter console and viewer), served by `captions serve` at /.
$(WEB_DEPS): $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build --silent

web-test: $(WEB_DEPS)
	cd $(WEB) && npm test --silent

run: $(RUN_STAMP) $(WEB_BUILD)
	$(BIN)/captions serve

# The scaled-out deployment as processes, in the foreground (Ctrl+C stops all of it): Redis (REDIS_CLUSTER=1: a
# Redis Cluster of six nodes), GATEWAYS gateways, TRANSCRIBERS transcribers and nginx on https://127.0.0.1:STACK_PORT
# with a self-signed certificate made once in data/stack/tls.
GATEWAYS ?= 2
TRANSCRIBERS ?= 1
REDIS_CLUSTER ?= 0
STACK_PORT ?= 8443
stack: $(RUN_STAMP) stack-system $(WEB_BUILD)
	$(BIN)/captions stack --gateways $(GATEWAYS) --transcribers $(TRANSCRIBERS) --port $(STACK_PORT) \
		$(if $(filter 1 true yes,$(REDIS_CLUSTER)),--redis-cluster)

# The certificate (and nginx site) `make stack` uses, for docker compose too (it mounts data/stack/tls).
certificate: $(RUN_STAMP) stack-system
	$(BIN)/captions stack --prepare --port $(STACK_PORT)

lint: $(STAMP)
	$(BIN)/ruff check services tests
	$(BIN)/ruff format --check services tests

typecheck: $(STAMP)
	$(BIN)/mypy

test: setup lint typecheck web-test $(WEB_BUILD)
	$(BIN)/pytest

# The Azure and Google adapters against the real services: needs their credentials in the environment
# (CAPTIONS_AZURE_SPEECH_KEY + _REGION, CAPTIONS_GOOGLE_PROJECT + Google credentials); skips, saying so, otherwise.
test-cloud: setup
	$(BIN)/pytest tests/cloud -m cloud -rs

# Every benchmark runs, each printing its targets; make fails at the end, naming those that missed one.
BENCHES = engine server scaleout cluster handover rooms abuse edge vocabulary batching microphone destinations
bench: setup
	@missed=""; for bench in $(BENCHES); do $(BIN)/python -m tests.bench.$$bench || missed="$$missed $$bench"; done; \
	$(BIN)/python -m tests.bench.charts; \
	if [ -n "$$missed" ]; then echo "bench: targets missed in:$$missed"; exit 1; fi

# The README's pictures: the browser test of a whole talk, saving its screenshots into docs/images.
screenshots: setup $(WEB_BUILD) $(BROWSER_DEPS)
	SCREENSHOTS_DIR=$(CURDIR)/docs/images $(BIN)/pytest tests/e2e/test_web_app.py -k talk_from_start

# An hour of speech through the engine and through `captions serve` (SOAK_MINUTES, SOAK_PARALLEL=0: one run
# after the other).
soak: setup
	$(BIN)/python -m tests.bench.soak
	$(BIN)/python -m tests.bench.charts

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache $(WEB)/node_modules $(WEB)/dist tests/browser/node_modules
