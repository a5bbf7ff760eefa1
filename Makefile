# `make run` starts the whole hub; `make test` runs the whole suite.
# Both create the virtualenv (.venv) and install what they need on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test cluster bench-latency lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements.txt requirements-test.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.run-deps
	$(BIN)/python -m hub.devtools.run

test: $(VENV)/.test-deps
	$(BIN)/python -m pytest

bench-latency: $(VENV)/.test-deps
	$(BIN)/python bench/latency.py

clean:
	rm -rf $(VENV) var
