"""bench/locustfile.py, distributed: a headless master and one worker against the mock.

Both run as subprocesses for a few seconds; the master's CSV report must have a row with
requests for every request name of the three mixes, and no failures anywhere.
"""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import REPO

LOCUSTFILE = REPO / "bench" / "locustfile.py"
NAMES = {"token", "api search", "api track", "web search", "web track page"}
RUN_SECONDS = 4
DEADLINE = 90.0  # seconds for the whole run, start-up of both processes included


def _locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


@pytest.fixture(scope="module")
def locust_available() -> None:
    """Skip (with the reason) when locust cannot start in this environment."""
    try:
        probe = subprocess.run(
            [sys.executable, "-m", "locust", "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"locust cannot start: {error}")
    if probe.returncode != 0:
        pytest.skip(f"locust cannot start: {(probe.stderr or probe.stdout).strip()[-300:]}")


def _free_port() -> int:
    # The master needs a fixed port its worker can be told; the OS picks a free one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[str]) -> str:
    """Stop a process if it still runs; its output."""
    if process.poll() is None:
        process.kill()
    output, _ = process.communicate(timeout=30)
    return output or ""


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes the test starts; every one is stopped after the test."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        _stop(process)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_master_and_one_worker_write_a_clean_csv(
    locust_available: None,
    mock_server: str,
    tmp_path: Path,
    started: list[subprocess.Popen[str]],
) -> None:
    prefix = tmp_path / "load"
    port = _free_port()
    master = subprocess.Popen(
        _locust(
            "--master",
            "--headless",
            "--host",
            mock_server,
            "-u",
            "10",
            "-r",
            "10",
            "-t",
            f"{RUN_SECONDS}s",
            "--expect-workers",
            "1",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--csv",
            str(prefix),
            "--only-summary",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    started.append(master)
    worker = subprocess.Popen(
        _locust("--worker", "--master-host", "127.0.0.1", "--master-port", str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    started.append(worker)
    try:
        master.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the locust master did not finish:\n{_stop(master)[-2000:]}")
    log = _stop(master)
    assert master.returncode == 0, log[-2000:]

    stats = {row["Name"]: row for row in _rows(prefix.with_name("load_stats.csv"))}
    missing = NAMES - {name for name, row in stats.items() if int(row["Request Count"]) > 0}
    assert not missing, f"no requests for {sorted(missing)}:\n{log[-2000:]}"
    assert int(stats["Aggregated"]["Request Count"]) >= sum(
        int(stats[name]["Request Count"]) for name in NAMES
    )
    assert all(int(row["Failure Count"]) == 0 for row in stats.values()), log[-2000:]
    assert _rows(prefix.with_name("load_failures.csv")) == []
    assert _rows(prefix.with_name("load_exceptions.csv")) == []
