"""Helpers shared by the test suite: where the real Beatport recordings live."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _find_recordings() -> Path:
    # The recordings are read from ../shared at test time and never copied into the repository.
    env = os.environ.get("CRATEDIGGER_RECORDINGS")
    if env:
        return Path(env)
    for parent in REPO.parents:
        candidate = parent / "shared" / "recordings"
        if candidate.is_dir():
            return candidate
    return Path("/work/shared/recordings")


RECORDINGS = _find_recordings()


def recording(name: str) -> Path:
    """Path of one real Beatport recording; fails loudly if the shared folder is missing."""
    path = RECORDINGS / name
    if not path.is_file():
        raise FileNotFoundError(
            f"recording {name} not found under {RECORDINGS}; set CRATEDIGGER_RECORDINGS"
        )
    return path
