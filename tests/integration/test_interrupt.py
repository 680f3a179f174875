"""Ctrl-C or SIGTERM part-way leaves a valid result file; --resume completes it exactly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cratedigger.options import MatchOptions
from cratedigger.output import RunIdentity, journal_path, read_results
from cratedigger.run import run_playlist
from mockserver.catalog import Catalog
from tests.integration.conftest import ServerFactory
from tests.integration.playlists import Demo, make_demo


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("interrupt"), tracks=120, seed=5)


def match(demo: Demo, base_url: str, out: Path, mode: str, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRATEDIGGER_")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cratedigger",
            "match",
            str(demo.xml),
            "--playlist",
            demo.playlist,
            "--base-url",
            base_url,
            "--mode",
            mode,
            "--concurrency",
            "2",
            "--no-cache",
            "--no-progress",
            "--out",
            str(out),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_lines(path: Path, count: int, proc: subprocess.Popen[str], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.02)
    raise AssertionError(f"{path} never reached {count} lines")


@pytest.mark.parametrize(
    ("mode", "sig"),
    [
        ("sync", signal.SIGINT),
        ("threads", signal.SIGINT),
        ("async", signal.SIGINT),
        ("async", signal.SIGTERM),
        ("async", signal.SIGKILL),
    ],
)
def test_interrupted_run_resumes_to_the_clean_result(
    mode: str,
    sig: signal.Signals,
    demo: Demo,
    mock_server_factory: ServerFactory,
    tmp_path: Path,
) -> None:
    server = mock_server_factory(latency="fixed:15ms")
    clean = tmp_path / "clean.json"
    ids = [t.track_id for t in demo.entries]
    run_playlist(
        demo.entries,
        MatchOptions(base_url=server.base_url),
        "sync",
        out=clean,
        progress=False,
        identity=RunIdentity.of(demo.xml, demo.playlist, ids),  # as the CLI names its run
    )

    out = tmp_path / "results.json"
    proc = match(demo, server.base_url, out, mode)
    wait_for_lines(journal_path(out), 1 + 15, proc)  # the run header, then 15 results
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        # No chance to write: the journal (flushed per track) is what survives.
        assert proc.returncode == -signal.SIGKILL
        partial = read_results(out) if out.exists() else []
    else:
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr and "Unclosed" not in stderr
        assert "destroyed" not in stderr
        partial = read_results(out)  # a valid file, in playlist order
        assert 15 <= len(partial) < len(demo.entries)
    order = {t.track_id: i for i, t in enumerate(demo.entries)}
    positions = [order[row["rekordbox_id"]] for row in partial]
    assert positions == sorted(positions)

    resumed = match(demo, server.base_url, out, mode, "--resume")
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    found = re.search(r"(\d+) of them from an earlier run", stderr)
    assert found is not None and int(found[1]) >= max(len(partial), 15)
    assert out.read_bytes() == clean.read_bytes()
    assert not journal_path(out).exists()


def test_an_interrupt_before_any_track_leaves_the_previous_results_as_they_were(
    demo: Demo, mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    server = mock_server_factory(latency="fixed:5s")  # no track can finish before the signal
    out = tmp_path / "results.json"
    out.write_text("the previous results\n")
    proc = match(demo, server.base_url, out, "async")
    wait_for_lines(journal_path(out), 1, proc)  # the run has started: its journal header
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == f"no track was done; {out} was left as it was"
    assert out.read_text() == "the previous results\n"
    assert not journal_path(out).exists()
