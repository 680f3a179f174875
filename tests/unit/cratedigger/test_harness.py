"""The bench harness's pure parts: scenarios as data, bounds, the tables it prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cratedigger.errors import InputError
from cratedigger.harness.bounds import bounds, efficiency
from cratedigger.harness.dashboard import headline, markdown_table, text_table, verdict_lines
from cratedigger.harness.scenarios import Case, builtin_scenarios, load_scenario


def test_builtin_scenarios_cover_the_issue() -> None:
    scenarios = builtin_scenarios()
    assert {"quick", "latency", "concurrency", "ratelimit", "faults", "scale"} <= set(scenarios)
    latency = scenarios["latency"]
    assert [c.latency_ms for c in latency.cases] == [0, 20, 50, 100, 200]
    assert scenarios["concurrency"].cases[0].concurrency == 1
    assert max(c.concurrency for c in scenarios["concurrency"].cases) == 128
    assert [c.server_rate for c in scenarios["ratelimit"].cases] == [5, 10, 20, 50]
    assert max(c.tracks for c in scenarios["scale"].cases) == 10_000
    quick = scenarios["quick"]
    assert quick.cases[0].latency_spec == "lognormal:median=50ms,sigma=0.3"
    assert quick.cases[1].rate_limit_spec == "20/s,burst=5"


def test_case_names_follow_the_varied_parameter() -> None:
    assert builtin_scenarios()["latency"].cases[2].name == "latency_ms-50"


def test_custom_scenario_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        '[wan]\ndescription = "far away"\ndefaults = { tracks = 30, latency_ms = 150 }\n'
        'cases = [{ name = "one", modes = ["async"], concurrency = 64 }]\n'
        '[other]\ndescription = "no cases: one, of the defaults"\n',
        encoding="utf-8",
    )
    scenario = load_scenario(str(path))
    assert scenario.name == "wan"
    assert scenario.cases == (
        Case("one", tracks=30, latency_ms=150, modes=("async",), concurrency=64),
    )
    assert load_scenario(f"{path}:other").cases == (Case("case-1"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[s]\ncases = [{ trakcs = 3 }]\n", "unknown parameter 'trakcs'"),
        ('[s]\ncases = [{ modes = ["fast"] }]\n', "list of modes"),
        ('[s]\ncases = [{ tracks = "many" }]\n', "s.cases[0].tracks"),
        ("[s\n", "invalid TOML"),
        ('[s]\nbaseline = "yes"\n', "s.baseline: expected true or false"),
        ("[s]\ncases = []\n", "s.cases: the list is empty"),
        ("[s]\ncases = [{ latency_ms = -5 }]\n", "s.cases[0].latency_ms: expected at least 0"),
        ("[s]\ncases = [{ timeout = 0 }]\n", "s.cases[0].timeout: expected more than 0"),
        ("[s]\ncases = [{ concurrency = 2.5 }]\n", "s.cases[0].concurrency: expected an integer"),
        (
            '[s]\ndefaults = { tracks = "many" }\n',
            "s.defaults.tracks: expected an integer, got 'many'",
        ),
        ('[s]\ncases = [{ source = "ftp" }]\n', "s.cases[0].source: expected api or web"),
        ("[s]\ncases = [3]\n", "s.cases: each case must be a table"),
    ],
)
def test_bad_scenario_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.toml") as info:
        load_scenario(str(path))
    assert message in str(info.value)


def test_unknown_scenario_lists_the_builtins() -> None:
    with pytest.raises(InputError, match="quick"):
        load_scenario("nope")


def test_a_scenario_file_that_is_not_there_is_said_so(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(InputError) as info:
        load_scenario(str(missing))
    assert str(info.value) == f"{missing}: --scenario: no such file"


def metrics(
    concurrency: int, cpu: float, spans: list[tuple[int | None, float, float]]
) -> dict[str, Any]:
    return {
        "session_info": {"concurrency": concurrency, "cpu_time": cpu, "requests_sent": len(spans)},
        "query_metrics": [
            {"track_index": t, "start": s, "network_time": n, "attempts": 1} for t, s, n in spans
        ],
    }


def test_bounds_take_the_largest_limit() -> None:
    # Two tracks: track 0 makes two sequential 0.1 s requests, track 1 one.
    doc = metrics(2, 0.05, [(0, 0.0, 0.1), (0, 0.1, 0.1), (1, 0.0, 0.1)])
    b = bounds(doc)
    assert b.latency == pytest.approx(0.15)
    assert b.chain == pytest.approx(0.2)
    assert b.ideal == pytest.approx(0.2) and b.limiting == "chain"
    assert b.latency_bound == pytest.approx(0.2)
    limited = bounds(doc, server_rate=1.0, server_burst=1)
    assert limited.rate == 2.0 and limited.limiting == "rate"
    assert bounds(metrics(1, 9.0, [(0, 0.0, 0.1)])).limiting == "cpu"
    assert efficiency(0.5, 1.0) == 0.5 and efficiency(1.0, 0.0) == 0.0


@pytest.mark.parametrize(
    ("mode", "concurrency", "cpu_count", "cores"),
    [
        ("sync", 1, 2, 1),
        ("async", 16, 2, 1),  # one thread does the work however many requests are in flight
        ("threads", 16, 2, 2),  # threads overlap up to the machine's cores
        ("threads", 1, 8, 1),
        ("threads", 16, None, 1),  # an export that does not say: one core, as before
    ],
)
def test_the_cpu_bound_counts_the_cores_a_mode_can_use(
    mode: str, concurrency: int, cpu_count: int | None, cores: int
) -> None:
    doc = metrics(concurrency, 3.0, [(0, 0.0, 0.1)])
    doc["session_info"]["mode"] = mode
    if cpu_count is not None:
        doc["session_info"]["cpu_count"] = cpu_count
    assert bounds(doc).cpu == pytest.approx(3.0 / cores)


def test_the_token_before_the_first_track_adds_to_both_bounds() -> None:
    # The token (no track) takes 0.06 s before any track may start; a later token renewal
    # overlaps with the tracks and shares the slots like any request.
    doc = metrics(
        2,
        0.01,
        [(None, 0.0, 0.06), (0, 0.06, 0.1), (0, 0.16, 0.1), (1, 0.06, 0.1), (None, 0.2, 0.02)],
    )
    b = bounds(doc)
    assert b.chain == pytest.approx(0.06 + 0.2)
    assert b.latency == pytest.approx(0.06 + 0.32 / 2)
    assert bounds(metrics(1, 0.0, [(None, 0.0, 0.05)])).latency == pytest.approx(0.05)


def summary() -> dict[str, Any]:
    run = {
        "mode": "async",
        "concurrency": 16,
        "wall_time": 1.0,
        "speedup": 12.5,
        "efficiency": 0.9,
        "latency_efficiency": 0.91,
        "limiting": "latency",
        "cpu_per_request_ms": 1.5,
        "cpu_per_track_ms": 2.0,
        "parse_share": 0.1,
        "peak_rss_mb": 60.0,
        "throughput_rps": 250.0,
        "rate_limited": 2,
        "rate_limited_share": 0.01,
        "network_percentage": 98.7,
        "verdict": "IMPLEMENT",
    }
    return {"cases": [{"name": "c", "identical": True, "runs": [run], "params": {"tracks": 60}}]}


def test_tables_show_each_run() -> None:
    text = text_table(summary())
    assert "12.5x" in text and "0.080x" in text and "90%" in text and "2 (1.0%)" in text
    assert text.splitlines()[0].split()[:2] == ["case", "tracks"]
    assert text.splitlines()[2].split()[:2] == ["c", "60"]
    assert markdown_table(summary()).count("\n") == 2
    assert verdict_lines(summary()) == ["c: async alone, no other results to compare with"]


def test_an_implement_verdict_beside_a_small_gain_says_why() -> None:
    base = summary()
    fast = base["cases"][0]["runs"][0]
    limited = {**fast, "speedup": 1.1, "limiting": "rate", "speedup_ci": [1.1, 1.1]}
    cpu_bound = {**fast, "mode": "threads", "speedup": 0.8, "limiting": "cpu"}
    case = {**base["cases"][0], "runs": [limited, cpu_bound]}
    lines = verdict_lines({"cases": [case]})
    assert "c async: analyzer IMPLEMENT (this run waited on the network, but the server's " in (
        "\n".join(lines)
    )
    assert any(line.startswith("c threads: analyzer IMPLEMENT (from this run's network share; "
                               "measured 0.8x sync: at this latency the client's CPU binds")
               for line in lines)  # fmt: skip
    sentence = headline({"scenario": "s", "cases": [case]})
    assert "gain nothing here" in sentence and "CI" not in sentence  # one value: no interval
    assert verdict_lines(base) == ["c: async alone, no other results to compare with"]  # agree


def test_verdicts_say_what_was_compared() -> None:
    first = summary()["cases"][0]
    runs = [first["runs"][0], {**first["runs"][0], "mode": "sync"}]
    cases = [
        {"name": "a", "identical": True, "runs": runs, "compared_with": None},
        {"name": "b", "identical": False, "runs": runs, "compared_with": "a",
         "differences": 0},
        {"name": "c", "identical": True, "runs": runs[:1], "compared_with": "a",
         "differences": 3},
    ]  # fmt: skip
    assert verdict_lines({"cases": cases}) == [
        "a: results of async, sync are identical",
        "b: results of async, sync are DIFFERENT",
        "b: async results equal those of a (entries that ended in error excluded)",
        "c: async results DIFFER in 3 entries from those of a (entries that ended in error "
        "excluded)",
    ]
