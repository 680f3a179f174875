# The README's commands. Each target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCENARIO ?= quick

.PHONY: install test bench bench-all bench-pytest asv asv-quick load lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The main job: sync vs threads vs async against the embedded mock server; writes results/.
bench: $(STAMP)
	$(VENV)/bin/cratedigger bench --scenario $(SCENARIO)

# Every built-in scenario (long: the scale scenario alone takes several minutes).
bench-all: $(STAMP)
	for s in quick latency concurrency ratelimit faults scale; do \
		$(VENV)/bin/cratedigger bench --scenario $$s --no-progress || exit 1; done

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src mockserver tests bench
	$(VENV)/bin/ruff format --check src mockserver tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
