# RIS developer entry points. Everything runs from .venv; PostgreSQL and Redis come from PyPI
# wheels and are started under var/ by ris/devstack.py (docs/decisions/0001).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEVSTACK := $(PY) -m ris.devstack

.PHONY: venv install run test browser-deps node-deps lint bench bench-deps down clean lock

venv install: $(STAMP)

# Reinstalled only when the lock or pyproject.toml change.
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

run: install
	$(DEVSTACK) run

test: install browser-deps node-deps
	$(DEVSTACK) test

# axe-core, from the npm registry, is injected into pages by the accessibility checks.
node-deps:
	@if [ -f node_modules/axe-core/axe.min.js ]; then \
		echo "node-deps: axe-core present"; \
	elif command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --silent \
		|| echo "node-deps: WARNING: npm ci failed; accessibility checks will skip"; \
	else \
		echo "node-deps: WARNING: npm is missing; accessibility checks will skip (install Node.js and npm)"; \
	fi

# Debian's Chromium for the browser tests; they skip, saying why, when it is missing.
browser-deps:
	@if [ -x /usr/bin/chromium ]; then \
		echo "browser-deps: /usr/bin/chromium present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "browser-deps: installing Debian's chromium"; \
		( apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium ) \
		|| echo "browser-deps: WARNING: could not install chromium; browser tests will skip"; \
	else \
		echo "browser-deps: WARNING: /usr/bin/chromium is missing and we are not root;" \
			"browser tests will skip (as root: apt-get install chromium)"; \
	fi

lint: install
	$(VENV)/bin/ruff check .

# wrk, from Debian's packages, drives the record page throughput benchmark (bench/http_bench.py).
bench-deps:
	@if command -v wrk >/dev/null 2>&1; then \
		echo "bench-deps: wrk present"; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "bench-deps: installing Debian's wrk"; \
		( apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends wrk ) \
		|| echo "bench-deps: WARNING: could not install wrk; the throughput benchmark will skip"; \
	else \
		echo "bench-deps: WARNING: wrk is missing and we are not root;" \
			"the throughput benchmark will skip (as root: apt-get install wrk)"; \
	fi

bench: install bench-deps
	@if [ -f bench/run.py ]; then $(DEVSTACK) exec -- $(PY) bench/run.py; \
	else echo "bench: no bench/run.py yet"; fi

down:
	@if [ -x $(PY) ]; then $(DEVSTACK) down; else echo "down: no $(VENV), nothing to stop"; fi

clean: down
	rm -rf $(VENV) var

# Regenerate requirements.lock from pyproject.toml (with the dev extra) in a throwaway venv.
# Existing pins are kept; `make lock LOCK_ARGS=--upgrade` moves everything to the newest.
LOCK_ARGS ?=
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && \
	"$$tmp/bin/pip" install --quiet pip-tools && \
	"$$tmp/bin/pip-compile" --quiet --extra dev --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links $(LOCK_ARGS) -o requirements.lock pyproject.toml
