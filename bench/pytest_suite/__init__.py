"""pytest-benchmark suites (`make bench-pytest`); outside tests/ so `make test` stays fast."""
