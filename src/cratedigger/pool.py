"""The candidates of one track's searches, scored only as far as the answer needs. Pure.

The flow asks three things of the candidates its searches found: is any of them certain,
which are the best few in `scoring.order`'s order, and how many were there. Most candidates
of a search are other songs that their title alone rules out, and scoring one in full
(normalising its credits and mix, comparing artists and versions) is most of the client's
CPU per request. So each candidate first gets `scoring.name_bound`, the most its score can
be, and is scored in full only when that bound could reach what is asked: `certain` for the
early exit, the k-th best score so far for the best k. The answers are exactly those of
scoring every candidate: a property test compares them on random pools of colliding titles
and tied scores, and the noise corpus's result files were byte-identical before and after.
"""

from __future__ import annotations

from collections.abc import Iterable

from cratedigger.models import Candidate
from cratedigger.scoring import Prepared, Rules, Score, name_bound, order, score


class _Entry:
    __slots__ = ("bound", "candidate", "score")

    def __init__(self, candidate: Candidate, bound: float) -> None:
        self.candidate = candidate
        self.bound = bound
        self.score: Score | None = None


class Pool:
    """Candidates by Beatport id (the first seen of each id is kept), lazily scored."""

    def __init__(self, prepared: Prepared, rules: Rules) -> None:
        self._prepared = prepared
        self._rules = rules
        self._entries: dict[int, _Entry] = {}
        self._certain = False

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, candidates: Iterable[Candidate]) -> None:
        """Take a reply's candidates; those that could be certain are scored at once."""
        for candidate in candidates:
            if candidate.beatport_id in self._entries:
                continue
            entry = _Entry(candidate, name_bound(self._prepared, candidate, self._rules))
            self._entries[candidate.beatport_id] = entry
            if entry.bound >= self._rules.certain and self._scored(entry) >= self._rules.certain:
                self._certain = True

    def any_certain(self) -> bool:
        """Whether a candidate scored at least `certain` (what scoring them all would say)."""
        return self._certain

    def best(self, count: int) -> list[tuple[Candidate, Score]]:
        """The first `count` candidates of `order(every candidate with its score)`."""
        scored = [e for e in self._entries.values() if e.score is not None]
        pending = sorted(
            (e for e in self._entries.values() if e.score is None), key=lambda e: -e.bound
        )
        top = self._top(scored, count)
        for entry in pending:
            # A candidate whose bound is below the k-th best score cannot enter the best k
            # (a bound equal to it might, on the tie-break by id: it is scored).
            if len(top) >= count and entry.bound < top[-1][1].total:
                break
            self._scored(entry)
            scored.append(entry)
            top = self._top(scored, count)
        return top

    def _scored(self, entry: _Entry) -> float:
        if entry.score is None:
            entry.score = score(self._prepared, entry.candidate, self._rules)
        return entry.score.total

    @staticmethod
    def _top(entries: list[_Entry], count: int) -> list[tuple[Candidate, Score]]:
        return order((e.candidate, e.score) for e in entries if e.score is not None)[:count]
