"""Benchmarks: asv suites, pytest-benchmark suites, load tests and standalone measurements."""
