"""Helpers shared by the test suite: where the real Beatport recordings live.

The recordings are committed under tests/fixtures/beatport/ (see its README), so a clone
needs nothing outside the repository to run the tests.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "tests" / "fixtures" / "beatport"


def recording(name: str) -> Path:
    """Path of one real Beatport recording in tests/fixtures/beatport/."""
    path = RECORDINGS / name
    if not path.is_file():
        raise FileNotFoundError(f"recording {name} not found under {RECORDINGS}")
    return path
