"""The server dies part-way: every mode stops within the outage budget, keeps what finished,
exits 3, and `--resume` against the restarted server ends equal to a clean run.

A real mock process is killed with SIGKILL 3 s into each run (the three modes run at once,
each against its own mock, to keep the test short), then started again on the same port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cratedigger.output import journal_path, read_results
from cratedigger.settings import MODES
from mockserver.catalog import Catalog
from tests.integration.playlists import Demo, make_demo

LATENCY = "fixed:40ms"  # long enough that no mode finishes in 3 s at concurrency 2
OUTAGE_BUDGET = 30  # the default of --outage-timeout
ENDS_WITHIN = 45.0  # seconds after the kill


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def mock_process(port: int) -> Iterator[subprocess.Popen[str]]:
    """`python -m mockserver serve` on `port`, ready when this yields; killed at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--latency", LATENCY],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("mockserver listening on "), line
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def command(demo: Demo, port: int, out: Path, mode: str, *extra: str) -> list[str]:
    base_url = f"http://127.0.0.1:{port}"
    return [
        *(sys.executable, "-m", "cratedigger", "match", str(demo.xml)),
        *("--playlist", demo.playlist, "--base-url", base_url, "--mode", mode),
        *("--concurrency", "2", "--no-cache", "--no-progress", "--out", str(out), *extra),
    ]


ENV = {k: v for k, v in os.environ.items() if not k.startswith("CRATEDIGGER_")}


def start(demo: Demo, port: int, out: Path, mode: str) -> subprocess.Popen[str]:
    argv = command(demo, port, out, mode)
    return subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=ENV)


def finish(demo: Demo, port: int, out: Path, mode: str, *extra: str) -> None:
    done = subprocess.run(
        command(demo, port, out, mode, *extra),
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _journal_lines(out: Path) -> int:
    try:
        return journal_path(out).read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("dies"), tracks=150, seed=9)


@pytest.mark.slow
def test_every_mode_stops_cleanly_when_the_server_dies_and_resumes(
    demo: Demo, mock_server: str, tmp_path: Path
) -> None:
    ports = {mode: free_port() for mode in MODES}
    runs: dict[str, subprocess.Popen[str]] = {}
    ended: dict[str, float] = {}
    with (
        mock_process(ports["sync"]) as a,
        mock_process(ports["threads"]) as b,
        mock_process(ports["async"]) as c,
    ):
        for mode in MODES:
            runs[mode] = start(demo, ports[mode], tmp_path / f"{mode}.json", mode)
        time.sleep(3.0)
        # On a busy machine a run may not have finished a track in 3 s: wait until each has
        # (its journal: the run header, then one line a result), so there is a partial result.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
            _journal_lines(tmp_path / f"{mode}.json") >= 2 for mode in MODES
        ):
            time.sleep(0.2)
        for proc in (a, b, c):
            proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        while len(ended) < len(runs) and time.monotonic() - killed < ENDS_WITHIN + 30:
            for mode, run in runs.items():
                if mode not in ended and run.poll() is not None:
                    ended[mode] = time.monotonic() - killed
            time.sleep(0.1)
        errors = {mode: run.communicate(timeout=30)[1] for mode, run in runs.items()}
    for mode, run in runs.items():
        err = errors[mode]
        assert run.returncode == 3, (mode, err)
        assert ended[mode] <= ENDS_WITHIN, (mode, ended[mode], err)
        assert ended[mode] >= OUTAGE_BUDGET - 5, (mode, ended[mode])  # it did wait and probe
        assert "unreachable since" in err and "--resume" in err, err
        assert "Traceback" not in err
        partial = read_results(tmp_path / f"{mode}.json")
        assert 0 < len(partial) < len(demo.entries), mode
        assert all(row["status"] in ("matched", "unmatched") for row in partial), mode
        assert journal_path(tmp_path / f"{mode}.json").exists()  # kept for --resume

    # The server is back: --resume finishes each run, equal to a clean run.
    clean = tmp_path / "clean.json"
    port = free_port()
    with mock_process(port):
        finish(demo, port, clean, "async")
        for mode in MODES:
            finish(demo, port, tmp_path / f"{mode}.json", mode, "--resume")
            assert (tmp_path / f"{mode}.json").read_bytes() == clean.read_bytes(), mode
