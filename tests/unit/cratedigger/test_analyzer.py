"""The async I/O analyzer: the decision rule, loading and checking files, reports, the CLI."""

from __future__ import annotations

import copy
import json
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from cratedigger.analyzer import (
    RULES,
    Figure,
    _sure_check,
    analyze,
    analyze_network_time_percentage,
    decide,
    load_metrics_from_json,
    metrics_schema,
    validate_metrics,
)
from cratedigger.cli import main
from cratedigger.errors import InputError
from cratedigger.export import RunMetrics, build_metrics
from cratedigger.metrics import MetricsCollector, RequestRecord, TrackRecord
from cratedigger.options import MatchOptions
from cratedigger.report import (
    compare_runs,
    generate_async_io_analysis_report,
    generate_comparison_report,
)
from cratedigger.resources import Usage
from cratedigger.run import RunSummary

percent = st.floats(0.0, 100.0, allow_nan=False)


@dataclass(frozen=True)
class Json:
    """A JSON value to set (wrapped, so that JSON null differs from "delete the key")."""

    value: object


json_values = st.builds(
    Json,
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-3, 700)
        | st.sampled_from([0.0, 1.0, 2.5, -0.5, 1e300])
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.sampled_from(["search", "token", "matched", "error", "", "x"]),
        lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner),
        max_leaves=3,
    ),
)


def make_document(
    network: float,
    cache: float,
    *,
    mode: str = "sync",
    concurrency: int = 1,
    wall: float = 2.0,
    tracks: int = 10,
    rate_limited: int = 0,
    peak_rss: int = 100 << 20,
) -> dict[str, Any]:
    """A real export of a small run, with the two decisive figures set as given."""
    collector = MetricsCollector()
    for i in range(concurrency):
        record = RequestRecord("search", f"q{i}", 0.0, 1.0, 0.8, 0.01, False, 200, 1, 10, 0, i)
        collector.record_request(record)
    summary = RunSummary(
        mode=mode,
        source="api",
        concurrency=concurrency,
        total=tracks,
        resumed=0,
        matched=tracks,
        unmatched=0,
        errors=0,
        interrupted=False,
        usage=Usage(wall, 0.3, peak_rss, 50 << 20),
        requests_sent=collector.sent,
        cache_hits=0,
        cache_misses=concurrency,
        rate_limited=rate_limited,
        rate_limit_wait=0.0,
    )
    document = build_metrics(RunMetrics(summary, collector, MatchOptions(base_url="http://x")))
    document["network_analysis"]["network_time_percentage"] = network
    document["cache_stats"]["hit_rate_percentage"] = cache
    return document


SAMPLE_DOCUMENT = build_metrics(
    RunMetrics(
        RunSummary("async", "api", 4, 2, 0, 2, 0, 0, False, Usage(1.0, 0.1, 1, 1), 3, 0, 3, 0, 0.0),
        MetricsCollector(
            requests=[
                RequestRecord("search", "a", 0.0, 0.5, 0.4, 0.01, False, 200, 1, 10, 0, 0),
                RequestRecord("track", "/t/1/", 0.1, 0.6, 0.3, 0.01, False, 429, 3, 0, 3, 1),
                RequestRecord("token", "/auth", 0.0, 0.1, 0.1, 0.0, False, 200, 1, 5, 0, None),
            ],
            tracks=[
                TrackRecord(0, "1", 0.0, 0.6, 1, 1, 3, True, "matched", 5, 0.95),
                TrackRecord(1, "2", 0.1, 0.7, 2, 2, 0, False, "unmatched", None, None),
            ],
        ),
        MatchOptions(),
    )
)
QUERY_KEYS = tuple(SAMPLE_DOCUMENT["query_metrics"][0])
TRACK_KEYS = tuple(SAMPLE_DOCUMENT["track_metrics"][0])


def write(tmp_path: Path, document: object, name: str = "m.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


class TestDecision:
    @pytest.mark.parametrize(
        ("network", "cache", "expected"),
        [
            # network around 40 (cache low enough for IMPLEMENT)
            (39.9, 10.0, "EVALUATE"),
            (40.0, 10.0, "EVALUATE"),
            (40.1, 10.0, "IMPLEMENT"),
            # network around 20 (cache neutral)
            (19.9, 60.0, "SKIP"),
            (20.0, 60.0, "EVALUATE"),
            (20.1, 60.0, "EVALUATE"),
            # cache around 50 (network high enough for IMPLEMENT)
            (90.0, 49.9, "IMPLEMENT"),
            (90.0, 50.0, "EVALUATE"),
            (90.0, 50.1, "EVALUATE"),
            # cache around 80 (network neutral)
            (30.0, 79.9, "EVALUATE"),
            (30.0, 80.0, "EVALUATE"),
            (30.0, 80.1, "SKIP"),
            # SKIP needs either condition, IMPLEMENT both
            (90.0, 85.0, "SKIP"),
            (10.0, 10.0, "SKIP"),
            (0.0, 0.0, "SKIP"),
            (100.0, 0.0, "IMPLEMENT"),
            (100.0, 100.0, "SKIP"),
        ],
    )
    def test_boundaries(self, network: float, cache: float, expected: str) -> None:
        assert decide(network, cache).recommendation == expected
        document = make_document(network, cache)
        assert analyze_network_time_percentage(document) == (network, expected)

    @given(percent, percent)
    def test_matches_the_rule_as_written(self, network: float, cache: float) -> None:
        if network > 40 and cache < 50:
            expected = "IMPLEMENT"
        elif network < 20 or cache > 80:
            expected = "SKIP"
        else:
            expected = "EVALUATE"
        assert decide(network, cache).recommendation == expected

    @given(percent, percent)
    def test_implement_and_skip_never_hold_together(self, network: float, cache: float) -> None:
        figures: dict[Figure, float] = {"network": network, "cache": cache}
        assert sum(bool(rule.fired(figures)) for rule in RULES) <= 1

    def test_the_reason_names_the_conditions_that_fired_with_the_figures(self) -> None:
        implement = decide(55.5, 12.25)
        assert implement.reason == ("network time 55.50 % > 40 % and cache hit rate 12.25 % < 50 %")
        skip = decide(90.0, 85.0)
        assert skip.reason == "cache hit rate 85.00 % > 80 %"
        both = decide(5.0, 95.0)
        assert both.reason == "network time 5.00 % < 20 %; cache hit rate 95.00 % > 80 %"
        evaluate = decide(30.0, 60.0)
        assert evaluate.fired == ()
        assert evaluate.reason.startswith(
            "network time 30.00 %, cache hit rate 60.00 %: not IMPLEMENT"
        )

    def test_a_figure_has_two_decimals_as_in_the_rest_of_the_report(self) -> None:
        # A metrics export has four: 99.6943 printed as the report's network share, 99.69 %.
        assert decide(99.6943, 0.0).reason.startswith("network time 99.69 % > 40 %")
        assert "network time 33.33 %, cache hit rate 66.67 %" in decide(33.3333, 66.6667).reason

    def test_a_figure_just_past_a_bound_is_shown_unrounded(self) -> None:
        assert "40.0001 % > 40 %" in decide(40.0001, 0.0).reason
        assert "network time 19.999 % < 20 %" in decide(19.999, 0.0).reason
        assert "cache hit rate 80.004 % > 80 %" in decide(50.0, 80.004).reason

    def test_the_verdict_carries_the_in_flight_share_and_the_session(self) -> None:
        document = make_document(70.0, 0.0, mode="async", concurrency=4)
        verdict = analyze(document)
        assert verdict.to_json() | {"rule": None} == {
            "percentage": 70.0,
            "recommendation": "IMPLEMENT",
            "reason": "network time 70.00 % > 40 % and cache hit rate 0.00 % < 50 %",
            "cache_hit_rate": 0.0,
            "in_flight_wall_percentage": document["network_analysis"]["in_flight_wall_percentage"],
            "mode": "async",
            "concurrency": 4,
            "conditions": ["network time > 40 %", "cache hit rate < 50 %"],
            "rule": None,
        }

    def test_analyze_names_a_missing_key(self) -> None:
        document = make_document(50.0, 0.0)
        del document["network_analysis"]["network_time_percentage"]
        with pytest.raises(InputError, match=r"missing key network_analysis\.network_time_"):
            analyze(document)


class TestLoading:
    def test_loads_a_valid_export(self, tmp_path: Path) -> None:
        document = make_document(50.0, 10.0)
        assert load_metrics_from_json(write(tmp_path, document)) == document

    def test_accepts_a_byte_order_mark(self, tmp_path: Path) -> None:
        path = tmp_path / "bom.json"
        path.write_bytes(b"\xef\xbb\xbf" + json.dumps(make_document(1.0, 2.0)).encode())
        assert load_metrics_from_json(path)["version"] == 1

    def test_missing_file(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope.json"
        with pytest.raises(InputError) as info:
            load_metrics_from_json(missing)
        assert str(info.value) == f"{missing}: no such file"

    def test_a_results_file_is_named_for_what_it_is(self, tmp_path: Path) -> None:
        path = tmp_path / "results.json"
        path.write_text('{"format": "cratedigger-results/1", "results": []}', encoding="utf-8")
        with pytest.raises(InputError, match="this is a results file, not a metrics export"):
            load_metrics_from_json(path)

    def test_invalid_json_names_line_and_column(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.json"
        path.write_text('{\n  "version": 1,\n  "generated": oops\n}\n', encoding="utf-8")
        with pytest.raises(InputError) as info:
            load_metrics_from_json(path)
        assert str(info.value) == f"{path}: invalid JSON at line 3, column 16: Expecting value"

    @pytest.mark.parametrize(
        ("section", "key"),
        [
            ("network_analysis", "network_time_percentage"),
            ("cache_stats", "hit_rate_percentage"),
            ("session_info", "wall_time"),
        ],
    )
    def test_a_missing_key_is_named_by_its_path(
        self, tmp_path: Path, section: str, key: str
    ) -> None:
        document = make_document(50.0, 10.0)
        del document[section][key]
        with pytest.raises(InputError, match=rf": missing key {section}\.{key}$"):
            load_metrics_from_json(write(tmp_path, document))

    def test_a_missing_section_is_named(self, tmp_path: Path) -> None:
        document = make_document(50.0, 10.0)
        del document["network_analysis"]
        with pytest.raises(InputError, match=r": missing key network_analysis$"):
            load_metrics_from_json(write(tmp_path, document))

    @pytest.mark.parametrize(("version", "shown"), [(2, "2"), ("1", '"1"'), (True, "true")])
    def test_a_wrong_version_says_which_was_found(
        self, tmp_path: Path, version: object, shown: str
    ) -> None:
        document = make_document(50.0, 10.0) | {"version": version}
        with pytest.raises(InputError, match=rf": unsupported metrics version {shown} \("):
            load_metrics_from_json(write(tmp_path, document))

    def test_a_schema_violation_names_the_path_of_the_value(self, tmp_path: Path) -> None:
        document = make_document(50.0, 10.0)
        document["query_metrics"][0]["network_time"] = "slow"
        with pytest.raises(InputError) as info:
            load_metrics_from_json(write(tmp_path, document))
        assert str(info.value).endswith(
            ': query_metrics[0].network_time: expected number, found "slow"'
        )

    def test_an_out_of_range_percentage_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(
            InputError, match=r"cache_stats\.hit_rate_percentage: 130(\.0)? is greater"
        ):
            load_metrics_from_json(write(tmp_path, make_document(50.0, 130.0)))

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("[]", "expected a JSON object at the top level, found an array"),
            ('{"version": NaN}', "invalid JSON: NaN is not a JSON number"),
            ("{}", "missing key version"),
            ("", "invalid JSON at line 1, column 1: Expecting value"),
        ],
    )
    def test_other_bad_files(self, tmp_path: Path, text: str, problem: str) -> None:
        path = tmp_path / "x.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as info:
            load_metrics_from_json(path)
        assert str(info.value) == f"{path}: {problem}"

    @settings(max_examples=200, deadline=None)
    @given(
        st.sampled_from(["query_metrics", "track_metrics"]),
        st.sampled_from([*QUERY_KEYS, *TRACK_KEYS, "extra"]),
        st.none() | json_values,  # None here: delete the key
    )
    def test_records_are_judged_exactly_as_the_schema_judges_them(
        self, array: str, key: str, value: object
    ) -> None:
        document = copy.deepcopy(SAMPLE_DOCUMENT)
        record = document[array][1]
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value.value if isinstance(value, Json) else value
        schema_says_valid = Draft202012Validator(metrics_schema()).is_valid(document)
        try:
            validate_metrics(document)
        except InputError as err:
            assert not schema_says_valid
            assert str(err).startswith((f"{array}[1]", f"missing key {array}[1]."))
        else:
            assert schema_says_valid

    def test_exported_records_take_the_fast_path(self) -> None:
        # The fast check is what keeps loading a 10 000-query file well under a second.
        for array, definition in (("query_metrics", "query"), ("track_metrics", "track")):
            assert SAMPLE_DOCUMENT[array]
            assert all(_sure_check(definition)(r) for r in SAMPLE_DOCUMENT[array])

    def test_validate_without_a_file(self) -> None:
        validate_metrics(make_document(1.0, 1.0))
        with pytest.raises(InputError, match=r"^missing key version$"):
            validate_metrics({})


class TestReport:
    def test_single_run_report(self) -> None:
        report = generate_async_io_analysis_report(make_document(55.0, 10.0), "run.json")
        assert report.startswith("Async I/O analysis: run.json\n")
        for section in ("\nSession\n", "\nNetwork\n", "\nCache\n", "\nRecommendation: IMPLEMENT\n"):
            assert section in report
        assert "mode sync, concurrency 1, source api, 10/10 tracks" in report
        assert "  search            1       0.800        1.000    80.00" in report
        assert "because network time 55.00 % > 40 % and cache hit rate 10.00 % < 50 %" in report
        assert "requests overlapped" not in report

    def test_overlap_is_pointed_out_when_summed_network_time_exceeds_the_wall(self) -> None:
        # Eight 1 s requests at once in a 2 s run: 6.4 s of summed network time.
        report = generate_async_io_analysis_report(
            make_document(80.0, 0.0, mode="async", concurrency=8)
        )
        assert "requests overlapped: 6.40 s of summed network time in 2.00 s" in report

    def test_comparison(self) -> None:
        sync = make_document(95.0, 0.0, wall=10.0, peak_rss=100 << 20)
        concurrent = make_document(60.0, 0.0, mode="async", concurrency=8, wall=2.5, rate_limited=3)
        concurrent["session_info"]["peak_rss"] = 110 << 20
        comparison = compare_runs(sync, concurrent)
        assert comparison.speedup == pytest.approx(4.0)
        assert comparison.network_share_change == pytest.approx(-35.0)
        assert (comparison.baseline_429, comparison.candidate_429) == (0, 3)
        assert comparison.candidate_peak_rss - comparison.baseline_peak_rss == 10 << 20
        assert comparison.warnings == ()
        report = generate_comparison_report(sync, concurrent, ("sync.json", "async.json"))
        assert report.count("Async I/O analysis:") == 2
        assert "speedup 4.00x (async.json (async) vs sync.json (sync))" in report
        assert "network share    -35.00 percentage points" in report
        assert "429 answers      0 -> 3" in report
        assert "peak RSS         100.0 MiB -> 110.0 MiB (+10.0 MiB)" in report

    def test_comparison_warns_about_runs_that_differ(self) -> None:
        one, other = make_document(50.0, 0.0, tracks=10), make_document(50.0, 0.0, tracks=12)
        other["session_info"]["wall_time"] = 0.0
        comparison = compare_runs(one, other)
        assert comparison.speedup is None
        assert comparison.warnings == ("different track counts: 10 vs 12",)


@pytest.fixture(autouse=True)
def restore_sigterm() -> Iterator[None]:
    """`cratedigger.cli.main` makes SIGTERM interrupt like Ctrl-C; undo that after the test."""
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


class TestCommand:
    def test_report(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, make_document(10.0, 0.0))
        assert main(["analyze", str(path)]) == 0
        out = capsys.readouterr().out
        assert "Recommendation: SKIP\n  because network time 10.00 % < 20 %" in out

    def test_json(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, make_document(45.0, 49.0))
        assert main(["analyze", str(path), "--json"]) == 0
        verdict = json.loads(capsys.readouterr().out)
        assert verdict["file"] == str(path)
        assert (verdict["percentage"], verdict["recommendation"]) == (45.0, "IMPLEMENT")
        assert verdict["cache_hit_rate"] == 49.0
        assert "in_flight_wall_percentage" in verdict and "reason" in verdict

    def test_two_files(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        sync = write(tmp_path, make_document(95.0, 0.0, wall=4.0), "sync.json")
        fast = write(tmp_path, make_document(90.0, 0.0, mode="async", wall=1.0), "async.json")
        assert main(["analyze", str(sync), str(fast)]) == 0
        assert "speedup 4.00x" in capsys.readouterr().out
        assert main(["analyze", str(sync), str(fast), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["comparison"]["speedup"] == 4.0
        assert data["other"]["file"] == str(fast)

    @pytest.mark.parametrize(
        ("content", "problem"),
        [
            (None, "no such file"),
            ('{"version": 1,', "invalid JSON at line 1, column 15"),
            ('{"version": 3}', "unsupported metrics version 3"),
            ("MISSING", "missing key cache_stats.hit_rate_percentage"),
        ],
    )
    def test_bad_input_is_one_line_and_exit_code_2(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        content: str | None,
        problem: str,
    ) -> None:
        path = tmp_path / "in.json"
        if content == "MISSING":
            document = make_document(50.0, 10.0)
            del document["cache_stats"]["hit_rate_percentage"]
            write(tmp_path, document, path.name)
        elif content is not None:
            path.write_text(content, encoding="utf-8")
        good = write(tmp_path, make_document(50.0, 10.0), "good.json")
        for argv in ([str(path)], [str(good), str(path)], [str(path), "--json"]):
            assert main(["analyze", *argv]) == 2
            captured = capsys.readouterr()
            assert captured.out == ""
            assert captured.err.startswith(f"cratedigger: error: {path}: {problem}")
            assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_documents_are_not_modified_by_analysis() -> None:
    document = make_document(50.0, 10.0)
    before = copy.deepcopy(document)
    generate_comparison_report(document, document)
    assert document == before
