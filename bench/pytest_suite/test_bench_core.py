"""pytest-benchmark: the pure core (scoring a candidate, parsing each source's answers).

Inputs are the real Beatport recordings; every benchmark also checks what it computed.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.benchmarks import support
from bench.benchmarks.support import (
    API,
    API_SEARCH,
    API_TRACK,
    WEB,
    WEB_PAGE,
    WEB_SEARCH,
    CoreFixtures,
    recording_bytes,
)
from cratedigger import scoring
from cratedigger.protocol.nextdata import extract_next_data
from cratedigger.rekordbox import read_library

STROBE_ANOTR = 7066037
# Rounds of at least 1 ms (many calls each) for 0.5 s: steadier figures than one-call
# rounds, and a JSON report of hundreds of samples per benchmark rather than thousands.
SCORING = pytest.mark.benchmark(group="scoring", min_time=0.001, max_time=0.5)
PARSING = pytest.mark.benchmark(group="parsing", min_time=0.001, max_time=0.5)


@SCORING
def test_prepare_local_track(benchmark: BenchmarkFixture, core: CoreFixtures) -> None:
    prepared = benchmark(scoring.prepare, core.local)
    assert prepared == core.prepared


@SCORING
def test_score_candidate(benchmark: BenchmarkFixture, core: CoreFixtures) -> None:
    result = benchmark(scoring.score, core.prepared, core.candidate)
    assert core.candidate.beatport_id == STROBE_ANOTR
    assert result.total >= scoring.RULES.certain


@SCORING
def test_rank_search_answer(benchmark: BenchmarkFixture, core: CoreFixtures) -> None:
    ranked = benchmark(scoring.rank, core.prepared, core.candidates)
    assert ranked[0][0].beatport_id == STROBE_ANOTR
    assert len(ranked) == len(core.candidates)


@PARSING
def test_parse_api_search(benchmark: BenchmarkFixture, core: CoreFixtures) -> None:
    candidates = benchmark(API.parse, API_SEARCH, core.api_search)
    tracks = orjson.loads(recording_bytes("api-v4-search-tracks-strobe.json"))["tracks"]
    assert [c.beatport_id for c in candidates] == [t["id"] for t in tracks]


@PARSING
def test_parse_api_track(benchmark: BenchmarkFixture, core: CoreFixtures) -> None:
    (candidate,) = benchmark(API.parse, API_TRACK, core.api_track)
    assert candidate.beatport_id == 19431036
    assert candidate.complete


@PARSING
def test_extract_next_data_from_250kb_page(benchmark: BenchmarkFixture, core: CoreFixtures) -> None:
    assert len(core.web_search.body) > 200_000
    data = benchmark(extract_next_data, core.web_search.body)
    assert "pageProps" in data["props"]


@PARSING
def test_parse_250kb_search_page(benchmark: BenchmarkFixture, core: CoreFixtures) -> None:
    candidates = benchmark(WEB.parse, WEB_SEARCH, core.web_search)
    assert len(candidates) == 15
    assert all("Noisia" in (*c.artists, *c.remixers) for c in candidates)


@PARSING
def test_parse_track_page(benchmark: BenchmarkFixture, core: CoreFixtures) -> None:
    (candidate,) = benchmark(WEB.parse, WEB_PAGE, core.web_page)
    assert candidate.beatport_id == 6389004
    assert candidate.name == "Purpose"


@pytest.mark.benchmark(group="library", max_time=2.0)
def test_read_10000_track_library(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    xml, playlist = support.write_library(tmp_path)

    def read() -> int:
        return len(read_library(xml).playlist(playlist).entries)

    assert benchmark(read) == support.LIBRARY_TRACKS
