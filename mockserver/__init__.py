"""A mock Beatport (API v4 and website) for tests and benchmarks: `python -m mockserver`."""

__all__: list[str] = []
