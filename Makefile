# `make run` starts the whole hub; `make test` runs the whole suite.
# Both create the virtualenv (.venv) and install what they need on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test browser-deps cluster bench-latency lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.run-deps node_modules/.installed
	$(BIN)/python -m hub.devtools.run

# The browser tests drive Debian's Chromium (Playwright's own browser
# download does not work on these machines) and run in their own pytest
# process: Playwright's event loop and pytest-asyncio's do not mix.
test: $(VENV)/.test-deps node_modules/.installed browser-deps
	$(BIN)/python -m pytest -m "not browser"
	$(BIN)/python -m pytest -m browser tests/browser

browser-deps: tests/browser/node_modules/.installed
	@command -v chromium >/dev/null || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Chart.js, from npm, draws the KPI dashboard's charts (served as static files).
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (the dashboard's charts come from npm)"; exit 1; }
	npm ci --no-audit --no-fund --silent
	touch $@

# axe-core, from npm, audits the chat widget's accessibility.
tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --silent
	touch $@

# Several web servers and Celery workers and one beat, sharing the
# PostgreSQL and Redis that DATABASE_URL and REDIS_URL name
# (docs/deployment.md). CLUSTER_ARGS, e.g. "--webs 3 --workers 2 --base-port 8000".
cluster: $(VENV)/.run-deps node_modules/.installed
	$(BIN)/python -m hub.devtools.cluster $(CLUSTER_ARGS)

bench-latency: $(VENV)/.test-deps
	$(BIN)/python bench/latency.py

clean:
	rm -rf $(VENV) var
