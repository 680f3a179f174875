"""The asv suite (`asv run --python=same`; see asv.conf.json and `make asv`).

* match: matching a playlist per mode (time, peak memory), against the mock in a subprocess;
* analysis: ratios of one run against another (speedup, efficiency, 429 and network shares);
* core: the pure core (scoring, parsing each source's answers).
"""
