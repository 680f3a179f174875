"""`har-info`: reading HAR entries, percentiles, the summary by route and status, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from mockserver.cli import main
from mockserver.errors import ReplayError
from mockserver.har_info import (
    format_summary,
    load_summary,
    percentile,
    read_entries,
    summarize,
    summary_json,
)

API = "https://api.beatport.com"


def _entry(url: str, status: int = 200, time: float = 100.0, **extra: Any) -> dict[str, Any]:
    return {
        "startedDateTime": extra.pop("started", "2024-05-01T10:00:00.000Z"),
        "time": time,
        "request": {"method": extra.pop("method", "GET"), "url": url},
        "response": {"status": status, "content": {"size": extra.pop("size", 1000)}},
        "timings": extra.pop("timings", {"send": 0, "wait": time * 0.8, "receive": time * 0.2}),
        **extra,
    }


def _har(path: Path, *entries: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": list(entries)}}))
    return path


@pytest.fixture
def session(tmp_path: Path) -> Path:
    searches = [
        _entry(
            f"{API}/v4/catalog/search/?q=t{i}", time=float(t), started=f"2024-05-01T10:00:{i:02}Z"
        )
        for i, t in enumerate([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    ]
    return _har(
        tmp_path / "session.har",
        _entry(f"{API}/v4/auth/o/token/", method="POST", time=300.0),
        *searches,
        _entry(f"{API}/v4/catalog/search/?q=busy", status=429, time=5.0),
        _entry("https://www.beatport.com/search?q=x", time=250.0, size=200_000),
        _entry(f"{API}/v4/catalog/tracks/1/", status=0, time=0.0, timings={}),
    )


def test_percentile_interpolates_between_ranks() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile(values, 0) == 10.0
    assert percentile(values, 50) == 25.0
    assert percentile(values, 100) == 40.0
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_entries_are_read_with_route_host_and_timings(session: Path) -> None:
    entries = read_entries(session)
    assert len(entries) == 14
    token = entries[0]
    assert (token.route, token.host, token.status, token.time_ms) == (
        "token",
        "api.beatport.com",
        200,
        300.0,
    )
    assert token.wait_ms == pytest.approx(240.0) and token.receive_ms == pytest.approx(60.0)
    assert entries[-2].route == "search" and entries[-2].host == "www.beatport.com"
    assert entries[-1].wait_ms is None


def test_summary_counts_by_route_and_status_with_latency_percentiles(session: Path) -> None:
    summary = load_summary([session])
    assert (summary.entries, summary.answered) == (14, 13)
    assert summary.hosts == ("api.beatport.com", "www.beatport.com")
    routes = {route.route: route for route in summary.routes}
    assert list(routes) == ["search", "token", "track", "all"]
    search = routes["search"]
    assert search.entries == 12
    assert search.statuses == ((200, 11), (429, 1))
    # 10 API searches of 10..100 ms, a 429 of 5 ms and a 250 ms page.
    times = sorted([*range(10, 101, 10), 5, 250])
    assert search.time_ms[0] == pytest.approx(percentile([float(t) for t in times], 50))
    assert search.time_ms[-1] == 250.0
    assert routes["track"].statuses == ((0, 1),)
    assert math.isnan(routes["track"].time_ms[0])  # no answer: counted, not timed
    assert routes["all"].entries == 14
    assert routes["all"].body_bytes == 13 * 1000 + 200_000
    assert summary.first is not None and summary.last is not None
    assert (summary.last - summary.first).total_seconds() == 9.0


def test_report_and_json_name_every_route(session: Path) -> None:
    summary = load_summary([session])
    report = format_summary(summary)
    assert "14 entries (1 without an answer, not replayed)" in report
    lines = {line.split()[0]: line for line in report.splitlines() if line.strip()}
    assert lines["search"].endswith("200: 11, 429: 1")
    assert lines["track"].endswith("no answer: 1")
    data = summary_json(summary)
    json.dumps(data, allow_nan=False)  # NaN became null
    track = next(r for r in data["routes"] if r["route"] == "track")
    assert track["statuses"] == {"0": 1} and track["time_ms"]["p50"] is None


def test_directories_are_read_whole(session: Path, tmp_path: Path) -> None:
    nested = tmp_path / "more"
    nested.mkdir()
    _har(nested / "b.har", _entry(f"{API}/v4/my/account/"))
    summary = load_summary([tmp_path])
    assert summary.entries == 15
    assert len(summary.files) == 2


def test_an_empty_recording_is_summarised_too() -> None:
    summary = summarize([])
    assert summary.routes == ()
    assert "0 entries" in format_summary(summary)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "not JSON"),
        ('{"log": {}}', "no log.entries list"),
        ('{"log": {"entries": [{"request": {"method": "GET"}}]}}', "entry 0: request.method"),
        (
            '{"log": {"entries": [{"request": {"method": "GET", "url": "/"}, "response": {}}]}}',
            "entry 0: response.status",
        ),
    ],
)
def test_bad_files_are_named_with_the_problem(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.har"
    path.write_text(content)
    with pytest.raises(ReplayError, match=problem) as raised:
        read_entries(path)
    assert str(path) in str(raised.value)


def test_cli_prints_the_summary_or_json(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["har-info", str(session)]) == 0
    assert "search" in capsys.readouterr().out
    assert main(["har-info", str(session), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == 14


def test_cli_reports_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.har"
    with pytest.raises(SystemExit) as stopped:
        main(["har-info", str(missing)])
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert str(missing) in error and "cannot read" in error
