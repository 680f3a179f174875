# The README's commands. Each target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCENARIO ?= quick

.PHONY: install test bench bench-all bench-pytest asv asv-quick asv-history asv-continuous \
	asv-compare load lint clean

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
	for s in quick cpu latency concurrency ratelimit faults scale; do \
		$(VENV)/bin/cratedigger bench --scenario $$s --no-progress || exit 1; done

# The whole suite with branch coverage of src/ and mockserver/; fails under 85 % (pyproject).
test: $(STAMP)
	$(PY) -m pytest --cov --cov-report=term

# pytest-benchmark suites (pure core, end to end per mode); not part of `make test`.
bench-pytest: $(STAMP)
	mkdir -p results/pytest-benchmark
	$(PY) -m pytest bench/pytest_suite --benchmark-json=results/pytest-benchmark/benchmark.json

# The full asv suite, saved under results/asv/ for this commit, then the site in results/html/.
asv: $(STAMP)
	$(VENV)/bin/asv machine --yes >/dev/null
	$(VENV)/bin/asv run --python=same --set-commit-hash $$(git rev-parse HEAD) --show-stderr
	$(VENV)/bin/asv publish

# asv as its users know it: each commit built into its own virtualenv (.asv/env).
# The last ASV_COMMITS commits of main (first parents), every benchmark once (--quick: about
# a minute and a half a commit once the environment exists), then the site in results/html/.
ASV_COMMITS ?= 10
asv-history: $(STAMP)
	$(VENV)/bin/asv machine --yes >/dev/null
	@# An older commit may fail a benchmark written later: keep going, the site shows it.
	-$(VENV)/bin/asv run --quick --skip-existing-commits --show-stderr main~$(ASV_COMMITS)..main
	$(VENV)/bin/asv publish

# Is HEAD slower than main? Fails if a benchmark got 20 % slower (both built afresh).
asv-continuous: $(STAMP)
	$(VENV)/bin/asv machine --yes >/dev/null
	$(VENV)/bin/asv continuous -f 1.2 --show-stderr main HEAD

# Two commits' saved results side by side: make asv-compare A=main~1 B=main
A ?= main~1
B ?= main
asv-compare: $(STAMP)
	$(VENV)/bin/asv compare $$(git rev-parse $(A)) $$(git rev-parse $(B))

# Every asv benchmark once (CI). Fails if one failed, whatever asv's exit status says.
asv-quick: $(STAMP)
	$(VENV)/bin/asv machine --yes >/dev/null
	@mkdir -p .asv
	@{ $(VENV)/bin/asv run --python=same --quick --show-stderr 2>&1; echo $$? >.asv/quick.status; } \
		| tee .asv/quick.log
	@if [ "$$(cat .asv/quick.status)" != 0 ] || grep -qwE 'failed|timeout' .asv/quick.log; then \
		echo "asv-quick: some benchmarks failed (see above)"; exit 1; fi
	@grep -q 'Running [1-9][0-9]* total benchmarks' .asv/quick.log \
		|| { echo "asv-quick: asv ran no benchmarks"; exit 1; }

# A bounded headless locust run against a mock this target starts; reports in results/load/.
LOAD_USERS ?= 50
LOAD_SPAWN_RATE ?= 10
LOAD_TIME ?= 30s
load: $(STAMP)
	@mkdir -p results/load
	@log=$$(mktemp); \
	PYTHONUNBUFFERED=1 $(PY) -m mockserver serve --port 0 >$$log 2>&1 & mock=$$!; \
	trap 'kill -INT $$mock 2>/dev/null; wait $$mock; rm -f $$log' EXIT; \
	for i in $$(seq 1 150); do grep -q '^mockserver listening on ' $$log && break; sleep 0.2; done; \
	url=$$(sed -n 's/^mockserver listening on //p' $$log); \
	if [ -z "$$url" ]; then echo "load: the mock server did not start:"; cat $$log; exit 1; fi; \
	$(VENV)/bin/locust -f bench/locustfile.py --host $$url --headless \
		-u $(LOAD_USERS) -r $(LOAD_SPAWN_RATE) -t $(LOAD_TIME) --only-summary \
		--csv results/load/mock --html results/load/report.html

lint: $(STAMP)
	$(VENV)/bin/ruff check src mockserver tests bench
	$(VENV)/bin/ruff format --check src mockserver tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
