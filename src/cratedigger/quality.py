"""How good a run's matches are, against a truth file (the demo playlists come with one)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cratedigger.errors import InputError
from cratedigger.models import MatchResult


@dataclass(frozen=True, slots=True)
class Quality:
    entries: int
    on_beatport: int  # entries whose truth is a Beatport id
    matched: int
    correct: int  # matched to the true id
    errors: int
    rejected: int = 0  # entries not on Beatport that were left unmatched

    @property
    def precision(self) -> float:
        """Share of matched entries whose Beatport id is right."""
        return self.correct / self.matched if self.matched else 1.0

    @property
    def recall(self) -> float:
        """Share of entries that are on Beatport and were matched to the right id."""
        return self.correct / self.on_beatport if self.on_beatport else 1.0

    @property
    def right(self) -> int:
        """Entries that came out right: matched to the true id, or (not on Beatport) left
        unmatched. Whatever is matched wrongly, missed, or in error is not."""
        return self.correct + self.rejected

    @property
    def accuracy(self) -> float:
        return self.right / self.entries if self.entries else 1.0

    def line(self) -> str:
        return (
            f"precision {self.precision:.2%} ({self.correct}/{self.matched}), "
            f"recall {self.recall:.2%} ({self.correct}/{self.on_beatport}), {self.errors} errors"
        )


def load_truth(path: Path) -> dict[str, int | None]:
    """The `tracks` map of a truth file written by `python -m mockserver playlist`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        tracks = document["tracks"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"not a truth file: {err}", path=str(path)) from None
    return {str(k): (int(v) if v is not None else None) for k, v in tracks.items()}


def evaluate(results: Sequence[MatchResult], truth: Mapping[str, int | None]) -> Quality:
    """Compare results with the truth, entry by entry."""
    on_beatport = matched = correct = errors = rejected = 0
    for result in results:
        expected = truth.get(result.rekordbox_id)
        on_beatport += expected is not None
        errors += result.status == "error"
        rejected += expected is None and result.status == "unmatched"
        if result.status == "matched":
            matched += 1
            correct += result.beatport_id == expected
    return Quality(len(results), on_beatport, matched, correct, errors, rejected)


def evaluate_groups(
    results: Sequence[MatchResult],
    truth: Mapping[str, int | None],
    groups: Mapping[str, str],
) -> dict[str, Quality]:
    """`evaluate` per group (a corpus pattern), groups in order of first appearance."""
    members: dict[str, list[MatchResult]] = {}
    for result in results:
        members.setdefault(groups.get(result.rekordbox_id, ""), []).append(result)
    return {group: evaluate(rows, truth) for group, rows in members.items()}
