"""How well a Beatport candidate matches a local track: weights, guards and thresholds as data.

`prepare` normalises a local track once; `score` is then called for every candidate of every
search, so candidate-side work is cached per candidate and nothing here compiles a regex.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from cratedigger.errors import InputError
from cratedigger.models import Candidate, LocalTrack
from cratedigger.normalize import Normalized, normalize_candidate, normalize_local, split_title

# Which kind of version a mix is: the first word of this table found in the mix decides,
# so "X Extended Remix" is a remix and "X Remix (Live)" is a live recording.
VERSION_KINDS: tuple[tuple[str, str], ...] = (
    ("acapella", "acapella"),
    ("acappella", "acapella"),
    ("instrumental", "instrumental"),
    ("dub", "dub"),
    ("vip", "vip"),
    ("live", "live"),
    ("remix", "remix"),
    ("rmx", "remix"),
    ("rework", "remix"),
    ("bootleg", "remix"),
    ("refix", "remix"),
    ("flip", "remix"),
    ("reedit", "remix"),
    ("radio", "edit"),
    ("edit", "edit"),
    ("extended", "extended"),
    ("original", "original"),
)


@dataclass(frozen=True, slots=True)
class VersionGuard:
    """What it costs when the local track is one kind of version and the candidate another."""

    local: str
    candidate: str
    penalty: float
    ok: bool  # the candidate is an acceptable stand-in for the local version
    reason: str


# Pairs of different kinds; any pair not listed costs `Rules.version_penalty` and is not ok.
VERSION_GUARDS: tuple[VersionGuard, ...] = (
    VersionGuard("original", "extended", 2.0, True, "extended mix for original mix"),
    VersionGuard("extended", "original", 2.0, True, "original mix for extended mix"),
    VersionGuard("original", "edit", 8.0, True, "edit for original mix"),
    VersionGuard("edit", "original", 6.0, True, "original mix for edit"),
    VersionGuard("extended", "edit", 10.0, True, "edit for extended mix"),
    VersionGuard("edit", "extended", 8.0, True, "extended mix for edit"),
    VersionGuard("original", "remix", 45.0, False, "remix is not the original"),
    VersionGuard("extended", "remix", 45.0, False, "remix is not the original"),
    VersionGuard("edit", "remix", 40.0, False, "remix is not the original"),
    VersionGuard("remix", "original", 45.0, False, "original is not the remix"),
    VersionGuard("remix", "extended", 45.0, False, "original is not the remix"),
    VersionGuard("remix", "edit", 40.0, False, "original is not the remix"),
)


@dataclass(frozen=True)
class Rules:
    """Every weight and threshold of matching, in one place to tune."""

    name_weight: float = 0.45
    artists_weight: float = 0.40
    mix_weight: float = 0.15
    accept: float = 75.0  # a best candidate below this is no match
    certain: float = 95.0  # a candidate at or above this ends the search early
    detail_candidates: int = 3  # how many incomplete top candidates to fetch details for
    detail_margin: float = 10.0  # ... if within this many points of the best
    max_queries: int = 4
    # How many query variants go out together: the first alone (it settles ~99 % of tracks),
    # then the rest at once, so a hard track waits two round trips instead of four.
    search_batches: tuple[int, ...] = (1, 3)
    min_name: float = 85.0  # a title less similar than this is another song
    name_penalty: float = 25.0
    min_artists: float = 75.0  # artists less similar than this are other people
    artists_penalty: float = 35.0
    same_artist: float = 80.0  # two credited names at least this similar are one artist
    # Typos: a name at least this long may be off by one edit (a dropped, swapped or replaced
    # character) per entry; each edit costs `typo_cost` points of similarity. Artist names
    # further apart than their allowance are other people ("Jane Doe" is not "John Doe").
    # Titles beyond their allowance score at most `name_beyond_typos`: "Summer Time" is not
    # "Summer Me", however alike the letters. Short aliases get no allowance: "Droex" and
    # "Froex" are two people.
    name_typo_lengths: tuple[int, ...] = (3, 10, 20)
    artist_typo_lengths: tuple[int, ...] = (8, 16)
    typo_cost: float = 5.0
    name_beyond_typos: float = 80.0
    # A reading of the local title that drops text of the tags (a bracketed label, a track
    # number) costs this much name similarity, so the reading of every word wins a tie.
    alt_name_cost: float = 1.0
    extra_artist_penalty: float = 4.0  # per candidate artist the local file does not credit
    missing_featured_penalty: float = 3.0  # per featured local artist the candidate lacks
    max_credit_penalty: float = 12.0  # cap of the two above
    same_remixer: float = 80.0
    other_remixer_penalty: float = 35.0
    version_penalty: float = 30.0
    version_guards: tuple[VersionGuard, ...] = VERSION_GUARDS
    _guards: Mapping[tuple[str, str], VersionGuard] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        weights = (self.name_weight, self.artists_weight, self.mix_weight)
        if min(weights) < 0 or abs(sum(weights) - 1.0) > 1e-9:
            raise InputError(f"rules: weights must be >= 0 and sum to 1, got {weights}")
        if not 0 <= self.accept <= self.certain <= 100:
            raise InputError("rules: need 0 <= accept <= certain <= 100")
        if self.detail_candidates < 0 or self.max_queries < 1:
            raise InputError("rules: detail_candidates must be >= 0 and max_queries >= 1")
        if not self.search_batches or min(self.search_batches) < 1:
            raise InputError("rules: search_batches must be sizes >= 1")
        for lengths in (self.name_typo_lengths, self.artist_typo_lengths):
            if list(lengths) != sorted(lengths):
                raise InputError(f"rules: typo lengths must be ascending, got {lengths}")
        penalties = (
            self.name_penalty,
            self.artists_penalty,
            self.version_penalty,
            self.other_remixer_penalty,
            *(g.penalty for g in self.version_guards),
        )
        if min(penalties) < 0 or self.typo_cost < 0:
            # A penalty below zero would be a bonus, a negative typo cost would score a typo
            # above 100, and `name_bound` would not be a bound.
            raise InputError("rules: penalties and typo_cost must be >= 0")
        guards = {(g.local, g.candidate): g for g in self.version_guards}
        object.__setattr__(self, "_guards", guards)

    def guard(self, local: str, candidate: str) -> VersionGuard | None:
        """The guard for a pair of version kinds, if the table lists one."""
        return self._guards.get((local, candidate))


RULES = Rules()


@dataclass(frozen=True, slots=True)
class Score:
    """A candidate's score (0..100, 2 decimals) and its parts; `reason` names fired guards."""

    total: float
    name: float
    artists: float
    mix: float
    version_ok: bool = True
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a comparison, with what every comparison needs precomputed."""

    normalized: Normalized
    kind: str
    main: tuple[str, ...]
    credited: tuple[str, ...]  # main and featured
    featured: tuple[str, ...]
    uncredited_main: tuple[str, ...]  # main artists the title does not mark as featured
    tokens: str  # sorted words of every credited artist: order and splitting do not matter
    remixers: str
    mix: str  # sorted words of the mix name


@dataclass(frozen=True, slots=True)
class Prepared:
    """A local track, normalised once for all its candidates."""

    track: LocalTrack
    side: Side


def version_kind(mix: str, remixers: tuple[str, ...]) -> str:
    """The kind of version a folded mix name describes ("original", "remix", "dub", ...)."""
    words = mix.split()
    for word, kind in VERSION_KINDS:
        if word in words:
            # "X Edit" is X's version of the track, not a shortened original.
            return "remix" if kind == "edit" and remixers else kind
    return "remix" if remixers else "other"


def _side(normalized: Normalized) -> Side:
    credited = tuple(dict.fromkeys((*normalized.artists, *normalized.featured)))
    featured = set(normalized.featured)
    return Side(
        normalized=normalized,
        kind=version_kind(normalized.mix, normalized.remixers),
        main=normalized.artists,
        credited=credited,
        featured=normalized.featured,
        uncredited_main=tuple(a for a in normalized.artists if a not in featured),
        tokens=" ".join(sorted(" ".join(credited).split())),
        remixers=" ".join(normalized.remixers),
        mix=" ".join(sorted(normalized.mix.split())),
    )


# Bounded small: a long playlist must not grow memory; hits come from nearby tracks.
@lru_cache(maxsize=1 << 11)
def _candidate_side(candidate: Candidate) -> Side:
    return _side(normalize_candidate(candidate))


def prepare(track: LocalTrack) -> Prepared:
    """Normalise a local track once, before scoring its candidates."""
    return Prepared(track=track, side=_side(normalize_local(track)))


def _allowed_edits(a: str, b: str, lengths: tuple[int, ...]) -> int:
    return bisect_right(lengths, min(len(a), len(b)))


def _name(local: Normalized, other: str, rules: Rules) -> float:
    """The local title's best reading against the candidate's (normalised) name."""
    best = name_similarity(local.name, other, rules)
    if best >= 100.0:
        return best
    if local.cut and local.name and other.startswith(local.name):
        # Cut at the ID3v1 limit: the rest of the name was lost. A title that was nothing
        # but the cut ("(Extended M") names no song: it is not a prefix of every name.
        return 100.0
    for alt in local.alt_names:
        best = max(best, name_similarity(alt, other, rules) - rules.alt_name_cost)
    return best


def _cut_fits(local: Normalized, candidate: Normalized) -> bool:
    """The local title was cut inside its version, and what is left begins the candidate's."""
    return local.cut_mix is not None and candidate.mix.startswith(local.cut_mix)


def name_similarity(a: str, b: str, rules: Rules = RULES) -> float:
    """High for a title within its allowance of typos, at most `name_beyond_typos` otherwise."""
    if a == b:
        return 100.0
    ratio: float = fuzz.ratio(a, b)
    allowed = _allowed_edits(a, b, rules.name_typo_lengths)
    edits: int = OSA.distance(a, b, score_cutoff=allowed)
    if edits <= allowed:
        return max(ratio, 100.0 - rules.typo_cost * edits)
    return min(ratio, rules.name_beyond_typos)


def artist_similarity(a: str, b: str, rules: Rules = RULES) -> float:
    """0 for names further apart than a few typos, else how alike they are."""
    if a == b:
        return 100.0
    return _artist_pair(a, b, rules.artist_typo_lengths, rules.typo_cost)


@lru_cache(maxsize=1 << 12)
def _artist_pair(a: str, b: str, lengths: tuple[int, ...], typo_cost: float) -> float:
    # Cached: the same few credited names meet in every candidate of a track's searches.
    # The longer name sets the allowance: a dropped letter must not take its typo away.
    allowed = bisect_right(lengths, max(len(a), len(b)))
    edits: int = OSA.distance(a, b, score_cutoff=allowed)
    if edits > allowed:
        return 0.0
    return max(fuzz.ratio(a, b), 100.0 - typo_cost * edits)


def _best(name: str, pool: tuple[str, ...], rules: Rules) -> float:
    best = 0.0
    for other in pool:
        similarity = artist_similarity(name, other, rules)
        if similarity > best:
            best = similarity
    return best


def _artists(local: Side, candidate: Side, rules: Rules) -> float:
    """Order-insensitive; featured artists optional; the joined words rescue odd splits."""
    if not local.main:
        return 0.0
    pool = candidate.credited
    recall = sum([_best(a, pool, rules) for a in local.main]) / len(local.main)
    penalty = 0.0
    for a in candidate.uncredited_main:
        if _best(a, local.credited, rules) < rules.same_artist:
            penalty += rules.extra_artist_penalty
    for a in local.featured:
        if _best(a, pool, rules) < rules.same_artist:
            penalty += rules.missing_featured_penalty
    recall -= min(penalty, rules.max_credit_penalty)
    if recall >= 100.0:
        return 100.0
    return max(recall, artist_similarity(local.tokens, candidate.tokens, rules), 0.0)


def _version(local: Side, candidate: Side, rules: Rules) -> tuple[float, bool, str]:
    if local.normalized.cut_mix and not _cut_fits(local.normalized, candidate.normalized):
        # What is left of a cut version is no other version's start: it is not this one.
        return rules.version_penalty, False, "cut version differs"
    if local.kind == candidate.kind or _cut_fits(local.normalized, candidate.normalized):
        if (
            local.kind == "remix"
            and local.remixers
            and candidate.remixers
            and fuzz.token_set_ratio(local.remixers, candidate.remixers) < rules.same_remixer
        ):
            return rules.other_remixer_penalty, False, "other remixer"
        return 0.0, True, ""
    guard = rules.guard(local.kind, candidate.kind)
    if guard is None:
        return rules.version_penalty, False, f"{candidate.kind} is not {local.kind}"
    return guard.penalty, guard.ok, guard.reason


def score(prepared: Prepared, candidate: Candidate, rules: Rules = RULES) -> Score:
    """Score one candidate for a prepared local track."""
    local, other = prepared.side, _candidate_side(candidate)
    name = _name(local.normalized, other.normalized.name, rules)
    artists = _artists(local, other, rules)
    mix = (
        100.0 if _cut_fits(local.normalized, other.normalized) else fuzz.ratio(local.mix, other.mix)
    )
    penalty, version_ok, version_reason = _version(local, other, rules)
    reasons = [version_reason] if version_reason else []
    if name < rules.min_name:
        penalty += rules.name_penalty
        reasons.append("title differs")
    if artists < rules.min_artists:
        penalty += rules.artists_penalty
        reasons.append("artists differ")
    raw = (
        rules.name_weight * name + rules.artists_weight * artists + rules.mix_weight * mix - penalty
    )
    return Score(
        total=round(min(100.0, max(0.0, raw)), 2),
        name=round(name, 2),
        artists=round(artists, 2),
        mix=round(mix, 2),
        version_ok=version_ok,
        reason="; ".join(reasons),
    )


def name_bound(prepared: Prepared, candidate: Candidate, rules: Rules = RULES) -> float:
    """The highest total `score` can give `candidate`, read from its title alone.

    The title is compared as `score` compares it; artists and mix are taken at their best
    and no penalty but the title's is charged (penalties are never negative, weights sum to
    one), with `score`'s arithmetic and rounding, so `score(...).total <= name_bound(...)`
    exactly. It costs the title's similarity only, not the candidate's normalisation.
    """
    name = _name(prepared.side.normalized, split_title(candidate.name).name, rules)
    penalty = rules.name_penalty if name < rules.min_name else 0.0
    raw = rules.name_weight * name + rules.artists_weight * 100.0 + rules.mix_weight * 100.0
    return round(min(100.0, max(0.0, raw - penalty)), 2)


def verify(prepared: Prepared, candidate: Candidate, rules: Rules = RULES) -> Score | None:
    """The score of a track fetched by a known id if the tags agree with it, else None.

    The id already says which track it is, so the check is for ids that belong to another
    track (copied, mistyped, stale): the title must be the same (`min_name`), and so must the
    artists when the tags name any (`min_artists`), and the version must be an acceptable
    stand-in. A title read from a file name may run name and version together
    ("Night Umbik Remix"): then the whole title is compared with the candidate's name and
    mix. Tags that name no artist do not disagree with any, so they score 100 there.
    """
    result = score(prepared, candidate, rules)
    local = prepared.side
    as_searched = result.name >= rules.min_name and result.version_ok
    name, mix = result.name, result.mix
    if not as_searched:
        name = name_similarity(
            _whole(local.normalized), _whole(_candidate_side(candidate).normalized), rules
        )
        if name < rules.min_name:
            return None
        mix = 100.0
    artists = result.artists if local.main else 100.0
    if artists < rules.min_artists:
        return None
    if as_searched and local.main:
        return result  # what a search would have scored it
    total = rules.name_weight * name + rules.artists_weight * artists + rules.mix_weight * mix
    return Score(round(min(100.0, total), 2), round(name, 2), round(artists, 2), round(mix, 2))


def _whole(normalized: Normalized) -> str:
    # Names read "&" as "and", mix names as a space: neither counts here.
    return " ".join(w for w in f"{normalized.name} {normalized.mix}".split() if w != "and")


def rank(
    prepared: Prepared, candidates: Iterable[Candidate], rules: Rules = RULES
) -> list[tuple[Candidate, Score]]:
    """Candidates with their scores, best first; ties go to the lower Beatport id.

    A complete candidate sorts before an incomplete one with the same id and score.
    """
    return order([(candidate, score(prepared, candidate, rules)) for candidate in candidates])


def order(scored: Iterable[tuple[Candidate, Score]]) -> list[tuple[Candidate, Score]]:
    """Already scored candidates, best first, with the tie-breaks of `rank`."""
    return sorted(
        scored, key=lambda pair: (-pair[1].total, pair[0].beatport_id, not pair[0].complete)
    )
