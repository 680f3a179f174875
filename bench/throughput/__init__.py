"""The pieces of `python -m bench.mock_throughput`, one module a job."""
