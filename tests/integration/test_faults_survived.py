"""Against 5 % 503s, 1 % resets, 1 % hangs and a 429 window, no entry is lost or changed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests

from cratedigger.options import MatchOptions
from cratedigger.output import read_results
from cratedigger.pacing import RateLimit
from cratedigger.run import run_playlist
from cratedigger.settings import MODES
from mockserver.catalog import Catalog
from tests.integration.conftest import ServerFactory
from tests.integration.playlists import Demo, make_demo

FAULTS = "503=0.05,reset=0.01,hang=0.01"


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("faults"), tracks=150, seed=13)


def rows(path: Path) -> list[dict[str, object]]:
    loaded: list[dict[str, object]] = read_results(path)
    return loaded


def open_429_window(base_url: str, length: float) -> threading.Thread:
    """Switch a tight server rate limit on now, and off again `length` seconds later.

    The window opens before the run starts: opened on a timer, a fast run (async on a quiet
    machine) could end before it and meet no 429 at all.
    """

    def patch(limit: str) -> None:
        answer = requests.patch(f"{base_url}/__admin/config", json={"rate_limit": limit}, timeout=5)
        answer.raise_for_status()

    patch("10/s,burst=2")
    thread = threading.Timer(length, patch, args=("off",))
    thread.daemon = True
    thread.start()
    return thread


@pytest.mark.parametrize("mode", MODES)
def test_faults_and_429s_lose_nothing(
    mode: str, demo: Demo, mock_server: str, mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.json"
    run_playlist(
        demo.entries, MatchOptions(base_url=mock_server), "async", out=clean, progress=False
    )

    server = mock_server_factory(faults=FAULTS)
    window = open_429_window(server.base_url, length=1.0)
    # No client pacing: the point is that the 429s the window answers lose nothing (with the
    # default, auto, the client adopts the announced rate and hardly meets a 429 at all).
    options = MatchOptions(
        base_url=server.base_url,
        concurrency=8,
        timeout=1.0,
        retries=5,
        rate_limit=RateLimit("off"),
    )
    out = tmp_path / "faulty.json"
    summary = run_playlist(demo.entries, options, mode, out=out, progress=False)
    window.join()

    stats = requests.get(f"{server.base_url}/__admin/stats", timeout=5).json()
    assert stats["faults"].get("503", 0) > 0 and stats["rate_limited"] > 0
    got, want = rows(out), rows(clean)
    assert [r["rekordbox_id"] for r in got] == [t.track_id for t in demo.entries]
    assert summary.done == len(demo.entries)
    for faulty, reference in zip(got, want, strict=True):
        if faulty["status"] != "error":  # a permanent failure is reported, never guessed
            assert faulty == reference
    assert summary.errors <= 2
