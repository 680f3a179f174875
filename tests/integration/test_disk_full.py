"""A disk that fills up during a run loses nothing: the run stops with one line, exit 3, the
results file it was replacing is left as it was, and `--resume` (once there is room) ends
equal to a clean run.

The full disk is the kernel's: the `cratedigger match` subprocess runs under a file-size
limit (RLIMIT_FSIZE, SIGXFSZ ignored), so a write past it fails with EFBIG as a write to a
full disk fails with ENOSPC: the same OSError path, no root or mount needed. (A full tmpfs
was tried by hand the same way: see the commit.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cratedigger.output import journal_path, read_results
from cratedigger.settings import MODES
from mockserver.catalog import Catalog
from tests.integration.playlists import Demo, make_demo

LIMIT = 24 * 1024  # bytes a file may grow to: the journal of ~40 of the 120 tracks


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("diskfull"), tracks=120, seed=31)


# `python -m cratedigger` under the limit: set in the child itself rather than by a
# preexec_fn, which is unsafe in this multi-threaded test process.
SMALL_DISK = f"""
import resource, runpy, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, no signal
resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}))
sys.argv[0] = "cratedigger"
runpy.run_module("cratedigger", run_name="__main__", alter_sys=True)
"""


def match(
    library: Path, demo: Demo, base_url: str, out: Path, mode: str, *extra: str, full: bool
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRATEDIGGER_")}
    python = [sys.executable, "-c", SMALL_DISK] if full else [sys.executable, "-m", "cratedigger"]
    return subprocess.run(
        [
            *python,
            *("match", str(library)),
            *("--playlist", demo.playlist, "--base-url", base_url, "--mode", mode),
            *("--no-cache", "--no-progress", "--out", str(out), *extra),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_disk_filling_up_stops_the_run_and_resume_finishes_it(
    mode: str, demo: Demo, mock_server: str, tmp_path: Path
) -> None:
    clean = tmp_path / "clean.json"
    assert match(demo.xml, demo, mock_server, clean, "async", full=False).returncode == 0

    # At --out, the results of another run (the same playlist of another library file):
    # a run that cannot finish writing must leave them as they were.
    other = tmp_path / "other.xml"
    shutil.copyfile(demo.xml, other)
    out = tmp_path / "r.json"
    assert match(other, demo, mock_server, out, "sync", full=False).returncode == 0
    before = out.read_bytes()

    stopped = match(demo.xml, demo, mock_server, out, mode, full=True)
    journal = journal_path(out)
    assert stopped.returncode == 3, stopped.stderr
    last = stopped.stderr.strip().splitlines()[-1]
    assert last.startswith("cratedigger: error: ") and "cannot write: File too large" in last
    assert f"are done and kept in {journal}" in last and "--resume" in last, last
    assert "Traceback" not in stopped.stderr
    assert out.read_bytes() == before  # the other run's results, untouched
    done = int(last.split("; ")[1].split(" of ")[0])
    assert 0 < done < len(demo.entries), last
    assert journal.exists()

    # Room again: --resume takes the journal (this run's), not the other run's file.
    resumed = match(demo.xml, demo, mock_server, out, mode, "--resume", full=False)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} of them from an earlier run" in resumed.stderr
    assert out.read_bytes() == clean.read_bytes()
    assert not journal.exists()
    assert [r["rekordbox_id"] for r in read_results(out)] == [t.track_id for t in demo.entries]
