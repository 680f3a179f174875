"""Counters, percentiles and the journal."""

from __future__ import annotations

import math
import random

import pytest

from mockserver.stats import NO_ANSWER, Journal, JournalEntry, LogHistogram, Stats


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def test_histogram_percentiles_are_within_half_a_percent() -> None:
    rng = random.Random(2)
    values = [rng.lognormvariate(math.log(0.05), 0.8) for _ in range(20_000)]
    histogram = LogHistogram()
    for value in values:
        histogram.record(value)
    for q in (1, 50, 90, 99, 99.9, 100):
        assert histogram.percentile(q) == pytest.approx(_exact(values, q), rel=0.006), q
    assert histogram.min == min(values) and histogram.max == max(values)
    assert histogram.count == len(values)


def test_histogram_edges() -> None:
    histogram = LogHistogram()
    assert histogram.percentile(50) is None
    assert histogram.summary_ms()["p50"] is None
    for value in (0.0, 0.0, 0.0, 2.0):
        histogram.record(value)
    assert histogram.percentile(50) == 0.0
    assert histogram.percentile(100) == 2.0
    summary = histogram.summary_ms()
    assert summary["count"] == 4 and summary["mean"] == 500.0 and summary["max"] == 2000.0


def test_stats_count_by_route_status_and_fault() -> None:
    now = [10.0]
    stats = Stats(lambda: now[0])
    stats.begin("search")
    stats.begin("search")
    stats.begin("track")
    assert (stats.in_flight, stats.peak_in_flight) == (3, 3)
    stats.end("search", 200, 0.05, 0.06, None)
    stats.end("search", 429, 0.05, 0.05, None)
    stats.end("track", NO_ANSWER, None, 0.001, "reset")
    now[0] = 12.5
    snap = stats.snapshot()
    assert snap["uptime_s"] == 2.5
    assert snap["requests"] == {"total": 3, "by_route": {"search": 2, "track": 1}}
    assert snap["responses"] == {
        "by_status": {"0": 1, "200": 1, "429": 1},
        "by_route": {"search": {"200": 1, "429": 1}, "track": {"0": 1}},
    }
    assert snap["rate_limited"] == 1
    assert snap["faults"] == {"reset": 1}
    assert snap["in_flight"] == {"current": 0, "peak": 3}
    latency = snap["latency_ms"]
    assert isinstance(latency, dict)
    assert latency["configured"]["count"] == 2 and latency["configured"]["p50"] == 50.0
    assert latency["total"]["count"] == 3


def test_reset_keeps_requests_in_flight_and_uptime() -> None:
    now = [0.0]
    stats = Stats(lambda: now[0])
    stats.begin("page")
    now[0] = 5.0
    stats.reset()
    assert stats.requests == {} and stats.in_flight == 1 and stats.peak_in_flight == 1
    stats.end("page", 200, None, 5.0, None)
    snap = stats.snapshot()
    assert snap["in_flight"] == {"current": 0, "peak": 1}
    assert (snap["uptime_s"], snap["since_reset_s"]) == (5.0, 0.0)


def _entry(n: int) -> JournalEntry:
    return JournalEntry(
        float(n), "GET", f"/search?q={n}", "search", 200, None, 0.01, 10, "127.0.0.1", None
    )


def test_the_journal_keeps_the_newest_entries_newest_last() -> None:
    journal = Journal(3)
    for n in range(5):
        journal.add(_entry(n))
    assert [e.time for e in journal.recent()] == [2.0, 3.0, 4.0]
    assert [e.time for e in journal.recent(2)] == [3.0, 4.0]
    assert journal.recent(0) == []
    assert journal.recent(1)[0].to_json()["target"] == "/search?q=4"
    journal.clear()
    assert len(journal) == 0


def test_histogram_reads_change_nothing_and_see_the_pending_batch() -> None:
    histogram = LogHistogram()
    values = [0.001 * (1 + i % 97) for i in range(LogHistogram.BATCH + 10)]  # a batch and more
    for value in values:
        histogram.record(value)
    first = histogram.summary_ms()
    assert first == histogram.summary_ms()  # a read does not file anything
    assert first["count"] == len(values)
    assert histogram.min == min(values) and histogram.max == max(values)
    assert first["mean"] == pytest.approx(1000 * sum(values) / len(values), abs=0.001)
    assert histogram.percentile(50) == pytest.approx(_exact(values, 50), rel=0.006)
