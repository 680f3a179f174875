"""The metrics export (schema version 1), from hand-made collector records: no sockets."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from fnmatch import fnmatchcase as fnmatch
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cratedigger.analyzer import load_metrics_from_json, metrics_schema
from cratedigger.export import (
    RunMetrics,
    build_metrics,
    export_performance_metrics_json,
    union_length,
)
from cratedigger.metrics import MetricsCollector, RequestRecord, TrackRecord
from cratedigger.options import MatchOptions
from cratedigger.resources import Usage
from cratedigger.run import RunSummary

T0 = 1000.0  # the monotonic clock's reading when the run began


def request(
    kind: str,
    start: float,
    end: float,
    network: float,
    *,
    attempts: int = 1,
    rate_limited: int = 0,
    status: int = 200,
    track: int | None = 0,
) -> RequestRecord:
    return RequestRecord(
        kind=kind,
        query=f"{kind} at {start}",
        start=T0 + start,
        end=T0 + end,
        network_time=network,
        parse_time=0.001 if attempts else 0.0,
        cache_hit=attempts == 0,
        status=status,
        attempts=attempts,
        bytes=100 * attempts,
        rate_limited=rate_limited,
        track_index=track,
    )


def track(index: int, start: float, end: float) -> TrackRecord:
    return TrackRecord(index, f"rb{index}", T0 + start, T0 + end, 2, 2, 5, False, "matched", 7, 0.9)


def run_metrics(
    requests: Sequence[RequestRecord],
    tracks: Sequence[TrackRecord] = (),
    *,
    wall: float = 4.0,
    mode: str = "sync",
    concurrency: int = 1,
    hits: int = 1,
    misses: int = 3,
    rate_limited: int = 0,
    cache: bool = True,
) -> RunMetrics:
    collector = MetricsCollector()
    for sent in requests:
        collector.record_request(sent)
    for done in tracks:
        collector.record_track(done)
    summary = RunSummary(
        mode=mode,
        source="api",
        concurrency=concurrency,
        total=len(tracks),
        resumed=0,
        matched=len(tracks),
        unmatched=0,
        errors=0,
        interrupted=False,
        usage=Usage(wall_time=wall, cpu_time=0.5, peak_rss=80 << 20, start_rss=60 << 20),
        requests_sent=collector.sent,
        cache_hits=hits,
        cache_misses=misses,
        rate_limited=rate_limited,
        rate_limit_wait=0.25 if rate_limited else 0.0,
    )
    options = MatchOptions(base_url="http://127.0.0.1:1", cache_dir=Path("c") if cache else None)
    return RunMetrics(summary, collector, options)


# Three sent requests and one cache hit, recorded out of order as threads would.
SAMPLE = (
    request("track", 2.0, 3.0, 0.5, track=1),
    request("search", 0.0, 1.0, 0.8, attempts=2, rate_limited=1, status=200),
    request("search", 3.5, 3.6, 0.0, attempts=0, track=1),
    request("search", 0.5, 1.5, 0.6),
)


@pytest.fixture
def document() -> dict[str, Any]:
    return build_metrics(run_metrics(SAMPLE, [track(1, 2.0, 3.6), track(0, 0.0, 1.5)]))


def walk_keys(value: object, path: str = "") -> Iterator[str]:
    """Every dotted key path of a document; list items share the path `name[]`."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk_keys(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from walk_keys(item, f"{path}[]")


def declared_keys(schema: dict[str, Any]) -> set[str]:
    """Every key path the schema names; `*` stands for the free keys of a map."""
    defs = schema["$defs"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node and "properties" not in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        return node

    out: set[str] = set()

    def visit(node: dict[str, Any], path: str) -> None:
        node = resolve(node)
        if path:
            out.add(path)
        if node.get("type") == "array":
            visit(node["items"], f"{path}[]")
        for key, child in node.get("properties", {}).items():
            visit(child, f"{path}.{key}" if path else key)
        if isinstance(node.get("additionalProperties"), dict):
            visit(node["additionalProperties"], f"{path}.*")

    visit(schema, "")
    return out


class TestUnionLength:
    @pytest.mark.parametrize(
        ("intervals", "expected"),
        [
            ([], 0.0),
            ([(1.0, 3.0)], 2.0),
            ([(0.0, 1.0), (2.0, 3.5)], 2.5),  # disjoint
            ([(0.0, 2.0), (1.0, 3.0)], 3.0),  # overlapping
            ([(0.0, 10.0), (2.0, 3.0), (4.0, 5.0)], 10.0),  # nested
            ([(0.0, 1.0), (1.0, 2.0)], 2.0),  # touching
            ([(5.0, 6.0), (0.0, 1.0), (0.5, 5.5)], 6.0),  # unsorted, chained
            ([(1.0, 1.0), (1.0, 1.0)], 0.0),  # empty intervals
        ],
    )
    def test_examples(self, intervals: list[tuple[float, float]], expected: float) -> None:
        assert union_length(intervals) == pytest.approx(expected)

    @given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), max_size=25))
    def test_matches_counting_covered_unit_cells(self, spans: list[tuple[int, int]]) -> None:
        intervals = [(float(start), float(start + length)) for start, length in spans]
        covered = {cell for start, length in spans for cell in range(start, start + length)}
        assert union_length(intervals) == pytest.approx(len(covered))


class TestBuildMetrics:
    def test_network_share_is_summed_network_over_summed_execution(
        self, document: dict[str, Any]
    ) -> None:
        analysis = document["network_analysis"]
        network, execution = 0.5 + 0.8 + 0.0 + 0.6, 1.0 + 1.0 + 0.1 + 1.0
        assert analysis["total_network_time"] == pytest.approx(network)
        assert analysis["total_execution_time"] == pytest.approx(execution)
        assert analysis["network_time_percentage"] == pytest.approx(
            network / execution * 100, abs=1e-4
        )

    def test_in_flight_share_is_the_union_of_sent_intervals_over_wall(
        self, document: dict[str, Any]
    ) -> None:
        # Sent intervals [0, 0.8], [0.5, 1.1], [2, 2.5]; the cache hit sent nothing.
        analysis = document["network_analysis"]
        assert analysis["in_flight_time"] == pytest.approx(1.6)
        assert analysis["in_flight_wall_percentage"] == pytest.approx(1.6 / 4.0 * 100)
        assert analysis["wall_time"] == 4.0

    def test_by_query_type(self, document: dict[str, Any]) -> None:
        by_type = document["network_analysis"]["network_time_by_query_type"]
        assert set(by_type) == {"search", "track"}
        assert by_type["search"]["count"] == 3
        assert by_type["search"]["network_time"] == pytest.approx(1.4)
        assert by_type["search"]["execution_time"] == pytest.approx(2.1)
        assert by_type["search"]["percentage"] == pytest.approx(1.4 / 2.1 * 100, abs=1e-4)
        assert by_type["track"] == {
            "count": 1,
            "network_time": 0.5,
            "execution_time": 1.0,
            "percentage": 50.0,
        }

    def test_counts_cache_and_aggregates(self, document: dict[str, Any]) -> None:
        assert document["version"] == 1
        assert document["session_info"]["requests_sent"] == 4  # 2 + 1 + 0 + 1 attempts
        assert document["aggregate_stats"]["requests_sent"] == 4
        assert document["aggregate_stats"]["queries"] == 4
        assert document["aggregate_stats"]["statuses"] == {"200": 4}
        assert document["cache_stats"] == {
            "enabled": True,
            "hits": 1,
            "misses": 3,
            "hit_rate": 0.25,
            "hit_rate_percentage": 25.0,
        }
        assert document["session_info"]["peak_rss"] == 80 << 20

    def test_queries_are_in_time_order_relative_to_the_first_event(
        self, document: dict[str, Any]
    ) -> None:
        queries = document["query_metrics"]
        assert [q["start"] for q in queries] == [0.0, 0.5, 2.0, 3.5]
        assert [q["cache_hit"] for q in queries] == [False, False, False, True]
        assert queries[0]["attempts"] == 2 and queries[0]["rate_limited"] == 1
        assert [t["index"] for t in document["track_metrics"]] == [0, 1]
        assert document["track_metrics"][1]["total_time"] == pytest.approx(1.6)

    def test_concurrent_requests_exceed_the_wall_but_in_flight_does_not(self) -> None:
        # Eight requests of 1 s each, all at once, in a 1.25 s run.
        overlapping = [request("search", 0.0, 1.0, 0.9, track=i) for i in range(8)]
        document = build_metrics(run_metrics(overlapping, wall=1.25, mode="async", concurrency=8))
        analysis = document["network_analysis"]
        assert analysis["total_network_time"] == pytest.approx(7.2)
        assert analysis["total_network_time"] > analysis["wall_time"]
        assert analysis["network_time_percentage"] == pytest.approx(90.0)
        assert analysis["in_flight_wall_percentage"] == pytest.approx(0.9 / 1.25 * 100)

    def test_an_empty_run_has_zero_shares(self) -> None:
        document = build_metrics(run_metrics([], hits=0, misses=0, cache=False))
        assert document["network_analysis"]["network_time_percentage"] == 0.0
        assert document["network_analysis"]["in_flight_wall_percentage"] == 0.0
        assert document["network_analysis"]["network_time_by_query_type"] == {}
        assert document["cache_stats"]["hit_rate_percentage"] == 0.0
        Draft202012Validator(metrics_schema()).validate(document)


class TestSchema:
    def test_the_schema_is_valid_draft_2020_12(self) -> None:
        schema = metrics_schema()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)

    def test_exports_validate(self, document: dict[str, Any], tmp_path: Path) -> None:
        validator = Draft202012Validator(metrics_schema())
        assert list(validator.iter_errors(document)) == []
        path = export_performance_metrics_json(
            run_metrics(
                SAMPLE, [track(0, 0.0, 1.5)], mode="threads", concurrency=4, rate_limited=1
            ),
            "run",
            tmp_path / "out",
        )
        assert path == tmp_path / "out" / "run.json"
        assert list(validator.iter_errors(json.loads(path.read_text()))) == []

    def test_every_exported_key_is_declared(self, document: dict[str, Any]) -> None:
        # Readers ignore unknown keys, so this test is what keeps schema and export in step.
        declared = declared_keys(metrics_schema())
        exported = set(walk_keys(document))
        assert [k for k in sorted(exported) if not any(fnmatch(k, d) for d in declared)] == []
        assert "network_analysis.network_time_by_query_type.search.count" in exported

    def test_every_required_section_is_exported(self, document: dict[str, Any]) -> None:
        assert set(metrics_schema()["required"]) <= set(document)

    @pytest.mark.parametrize(
        ("path", "value"),
        [
            (("version",), 2),
            (("version",), True),
            (("network_analysis", "network_time_percentage"), 100.5),
            (("cache_stats", "hit_rate_percentage"), -1),
            (("session_info", "mode"), "fibers"),
            (("query_metrics", 0, "attempts"), 1.5),
            (("track_metrics", 0, "status"), "maybe"),
            (("aggregate_stats", "statuses"), {"OK": 1}),
        ],
    )
    def test_the_schema_rejects(
        self, document: dict[str, Any], path: tuple[str | int, ...], value: object
    ) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        assert not Draft202012Validator(metrics_schema()).is_valid(document)


def test_export_round_trips_through_the_analyzer_loader(tmp_path: Path) -> None:
    path = export_performance_metrics_json(run_metrics(SAMPLE), "metrics.json", tmp_path)
    assert path.name == "metrics.json"  # no second .json suffix
    loaded = load_metrics_from_json(path)
    assert loaded["network_analysis"] == build_metrics(run_metrics(SAMPLE))["network_analysis"]
