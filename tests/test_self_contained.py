"""The repository needs nothing outside itself: no tracked file names a path above it.

A clone anywhere (no `shared/` folder above it, another user's home) must test, benchmark
and document itself from its own files; the Beatport recordings live in tests/fixtures/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Built from pieces so that this file does not match itself.
OUTSIDE = re.compile("|".join([re.escape(".." + "/shared"), re.escape("/" + "work/")]))


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files are unknown")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [REPO / name for name in listed.decode().split("\0") if name]


def test_no_tracked_file_names_a_path_outside_the_repository() -> None:
    offenders = []
    for path in _tracked_files():
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:100]}")
    assert not offenders, "paths outside the repository:\n" + "\n".join(offenders)


def test_the_recordings_are_in_the_repository() -> None:
    from tests.support import RECORDINGS

    assert RECORDINGS.is_relative_to(REPO)
    names = {path.name for path in RECORDINGS.iterdir()}
    assert {"api-v4-search-tracks-strobe.json", "web-search-noisia.html"} <= names
    assert "README.md" in names
