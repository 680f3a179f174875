"""The lazily scored pool answers exactly what scoring every candidate answers."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cratedigger.errors import InputError
from cratedigger.models import Candidate, LocalTrack
from cratedigger.pool import Pool
from cratedigger.scoring import RULES, Rules, Score, name_bound, order, prepare, score

# Few words, so titles, artists and mixes collide and scores tie: the hard cases of a bound.
TITLES = ["Strobe", "Strobe (Extended Mix)", "Strobes", "Sun & Moon", "Sun and Moon", "Ghosts"]
ARTISTS = ["deadmau5", "Deadmau5", "Above & Beyond", "Noisia", "Deadmaus", "The Others"]
MIXES = ["Original Mix", "Extended Mix", "Noisia Remix", "Radio Edit", "", "Dub"]

candidates = st.builds(
    Candidate,
    beatport_id=st.integers(1, 40),
    name=st.sampled_from(TITLES),
    mix_name=st.sampled_from(MIXES),
    artists=st.lists(st.sampled_from(ARTISTS), min_size=0, max_size=2).map(tuple),
    remixers=st.lists(st.sampled_from(ARTISTS), max_size=1).map(tuple),
    complete=st.booleans(),
)
locals_ = st.builds(
    LocalTrack,
    track_id=st.just("1"),
    name=st.sampled_from([*TITLES, "Strobe (Extended M", "Ghost"]),
    artist=st.sampled_from([*ARTISTS, ""]),
    mix=st.sampled_from(MIXES),
)


def _everything(
    local: LocalTrack, replies: list[list[Candidate]], rules: Rules = RULES
) -> dict[int, tuple[Candidate, Score]]:
    """What the flow computed before the pool: every first-seen candidate scored."""
    prepared = prepare(local)
    pool: dict[int, tuple[Candidate, Score]] = {}
    for reply in replies:
        for c in reply:
            pool.setdefault(c.beatport_id, (c, score(prepared, c, rules)))
    return pool


@settings(max_examples=400, deadline=None)
@given(locals_, st.lists(st.lists(candidates, max_size=10), min_size=1, max_size=4))
def test_best_and_certain_are_those_of_scoring_everything(
    local: LocalTrack, replies: list[list[Candidate]]
) -> None:
    everything = _everything(local, replies)
    pool = Pool(prepare(local), RULES)
    for reply in replies:
        pool.add(reply)
    assert len(pool) == len(everything)
    certain = any(s.total >= RULES.certain for _, s in everything.values())
    assert pool.any_certain() == certain
    ranked = order(everything.values())
    for count in (1, 3, 50):
        assert pool.best(count) == ranked[:count]


@settings(max_examples=300, deadline=None)
@given(locals_, candidates)
def test_name_bound_is_a_bound(local: LocalTrack, candidate: Candidate) -> None:
    prepared = prepare(local)
    assert score(prepared, candidate).total <= name_bound(prepared, candidate)


def test_the_bound_spares_most_full_scores_on_a_real_search() -> None:
    local = LocalTrack("1", "Strobe", "deadmau5")
    others = [Candidate(i, f"Track {i}", "Original Mix", ("Somebody",)) for i in range(2, 11)]
    pool = Pool(prepare(local), RULES)
    pool.add([Candidate(1, "Strobe", "Original Mix", ("deadmau5",)), *others])
    assert pool.any_certain()
    assert pool.best(1)[0][0].beatport_id == 1
    assert sum(e.score is not None for e in pool._entries.values()) == 1


@pytest.mark.parametrize("change", [{"artists_penalty": -5.0}, {"typo_cost": -1.0}])
def test_negative_penalties_are_refused(change: dict[str, float]) -> None:
    with pytest.raises(InputError, match="penalties and typo_cost must be >= 0"):
        dataclasses.replace(RULES, **change)  # type: ignore[arg-type]
