"""The website answers a bot challenge part-way: the run stops at once with a line that says
what happened, keeps what finished, exits 3, and `--resume` finishes it later."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from cratedigger.output import read_results
from mockserver.catalog import Catalog
from tests.integration.conftest import ServerFactory
from tests.integration.playlists import Demo, make_demo
from tests.integration.test_cli_match import cratedigger


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("challenge"), tracks=30, seed=17)


@pytest.mark.parametrize("mode", ["sync", "threads", "async"])
def test_a_challenge_stops_the_web_source_and_resume_finishes(
    mode: str, demo: Demo, mock_server: str, mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    common = ("--playlist", demo.playlist, "--source", "web", "--mode", mode, "--no-cache")
    clean = tmp_path / "clean.json"
    done = cratedigger("match", demo.xml, *common, "--base-url", mock_server, "--out", clean)
    assert done.returncode == 0, done.stderr

    server = mock_server_factory(challenge="web:after=25")
    out = tmp_path / "web.json"
    stopped = cratedigger(
        "match", demo.xml, *common, "--base-url", server.base_url, "--out", out, "--no-progress"
    )
    assert stopped.returncode == 3, stopped.stderr
    message = stopped.stderr.strip().splitlines()[-1]
    assert "bot challenge" in message and "--source api" in message and "--resume" in message
    assert "Traceback" not in stopped.stderr
    kept = read_results(out)
    assert 0 < len(kept) < len(demo.entries)
    assert all(row["status"] in ("matched", "unmatched") for row in kept)
    served = requests.get(f"{server.base_url}/__admin/requests", timeout=10).json()["requests"]
    # No retries and no new tracks: at most the requests in flight when it came (16 slots),
    # and the one that took the first 403's slot while that answer was being read.
    assert sum(1 for r in served if r["status"] == 403) <= 16 + 1

    requests.patch(f"{server.base_url}/__admin/config", json={"challenge": "off"}, timeout=10)
    resumed = cratedigger(
        "match", demo.xml, *common, "--base-url", server.base_url, "--out", out, "--resume"
    )
    assert resumed.returncode == 0, resumed.stderr
    assert read_results(out) == read_results(clean)
