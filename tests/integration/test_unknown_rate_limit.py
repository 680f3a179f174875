"""A server's rate limit the client is not told about is met with few 429s in every mode.

`--rate-limit auto` is every mode's default: the pacer adopts a rate the server announces
(the mock, like many APIs, sends `RateLimit-Policy`) or learns it from 429s. Each mode runs
as a user runs it (the CLI, default settings) against its own mock limited to 10 requests/s
with a burst of 3; the three run at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cratedigger.settings import MODES
from mockserver.catalog import Catalog
from tests.integration.conftest import ServerFactory
from tests.integration.playlists import Demo, make_demo

LIMIT = 10.0


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("limit"), tracks=30, seed=21)


@pytest.mark.slow
def test_every_mode_stays_under_an_unannounced_limit(
    demo: Demo, mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRATEDIGGER_")}
    runs = {}
    for mode in MODES:
        server = mock_server_factory(rate_limit="10/s,burst=3")
        argv = [
            *(sys.executable, "-m", "cratedigger", "match", str(demo.xml)),
            *("--playlist", demo.playlist, "--base-url", server.base_url, "--mode", mode),
            *("--no-cache", "--no-progress", "--out", str(tmp_path / f"{mode}.json")),
            *("--metrics", str(tmp_path / f"{mode}-metrics.json")),
        ]
        runs[mode] = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env)
    for mode, run in runs.items():
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, (mode, err)
        metrics = json.loads((tmp_path / f"{mode}-metrics.json").read_text(encoding="utf-8"))
        session, aggregate = metrics["session_info"], metrics["aggregate_stats"]
        sent, limited = session["requests_sent"], session["rate_limited"]
        assert limited <= 0.02 * sent, (mode, limited, sent)
        assert aggregate["errors"] == 0, mode
        rate = sent / session["wall_time"]
        if mode != "sync":  # one request at a time may be slower than the limit anyway
            assert rate >= 0.85 * LIMIT, (mode, rate)
        assert rate <= LIMIT * 1.35, (mode, rate)  # the burst of 3 at most, on top
    first = (tmp_path / "sync.json").read_bytes()
    assert all((tmp_path / f"{m}.json").read_bytes() == first for m in MODES)
