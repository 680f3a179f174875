"""Matching one track, written once as a generator every driver runs. Pure.

The flow yields a batch of `Request`s and is sent back one reply per request, in the same
order (a list of `Candidate`s, or a `Failure` once the retries ran out); it returns the
`MatchResult`. The order of queries, the early exit and the choice of candidates live here
and nowhere else, so every mode sends the same requests and reaches the same result.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

from cratedigger.known import known_id
from cratedigger.models import (
    Candidate,
    Failure,
    LocalTrack,
    MatchResult,
    Reply,
    Request,
    TrackStats,
)
from cratedigger.pool import Pool
from cratedigger.protocol.base import Source
from cratedigger.queries import build_queries
from cratedigger.scoring import RULES, Rules, Score, prepare, rank, verify

NOT_IN_COLLECTION = "not in the collection"
NOTHING_TO_SEARCH = "nothing to search for: the tags give no searchable title, artist or file name"

MatchFlow = Generator[list[Request], list[Reply], MatchResult]


def match_flow(track: LocalTrack, source: Source, rules: Rules = RULES) -> MatchFlow:
    """Fetch a known id and check it; else search with each query variant until a candidate
    is certain, then settle the details."""
    if not track.in_collection:
        return _error(track, Failure(NOT_IN_COLLECTION), TrackStats())
    prepared = prepare(track)
    queries = requests = 0
    known = known_id(track)
    if known is not None:
        # One request instead of a search; an id the tags do not bear out is searched for.
        (reply,) = yield [source.track_request(known.beatport_id, known.slug)]
        requests += 1
        if not isinstance(reply, Failure) and reply:
            verified = verify(prepared, reply[0], rules)
            if verified is not None:
                return _matched(track, reply[0], verified, TrackStats(0, requests, 1))
    queries_to_send = build_queries(track)[: rules.max_queries]
    if not queries_to_send:
        why = NOTHING_TO_SEARCH
        if known is not None:
            why += f"; the Beatport id in them ({known.beatport_id}) did not check out"
        return _unmatched(track, [], TrackStats(0, requests, 0), why)
    pool = Pool(prepared, rules)  # each candidate scored once, and only if it can matter
    early_exit = False
    for batch in _batches(queries_to_send, rules.search_batches):
        replies = yield [source.search_request(query) for query in batch]
        requests += len(batch)
        # Replies are read in query order and reading stops where a sequential search would
        # have stopped, so batching changes how many requests go out, never the result.
        for reply in replies:
            queries += 1
            if isinstance(reply, Failure):
                # A search lost for good makes the answer uncertain: report it; resume retries.
                return _error(track, reply, TrackStats(queries, requests, len(pool)))
            pool.add(reply)
            if pool.any_certain():
                early_exit = True
                break
        if early_exit:
            break

    # The best candidate, and the few `_needs_detail` looks at, in `order`'s order.
    ranked = pool.best(max(1, 1 if early_exit else rules.detail_candidates))
    if not ranked or ranked[0][1].total < rules.accept:
        return _unmatched(track, ranked, TrackStats(queries, requests, len(pool), early_exit))

    shortlist = _needs_detail(ranked, rules, early_exit)
    if shortlist:
        replies = yield [source.detail_request(c) for c in shortlist]
        requests += len(shortlist)
        detailed: list[Candidate] = []
        for reply in replies:
            if isinstance(reply, Failure):
                return _error(track, reply, TrackStats(queries, requests, len(pool), early_exit))
            detailed.extend(reply[:1])
        ranked = rank(prepared, detailed, rules)
        if not ranked or ranked[0][1].total < rules.accept:
            return _unmatched(track, ranked, TrackStats(queries, requests, len(pool), early_exit))

    best, score = ranked[0]
    return _matched(track, best, score, TrackStats(queries, requests, len(pool), early_exit))


def _batches(queries: Sequence[str], sizes: Sequence[int]) -> list[Sequence[str]]:
    """Split the query variants into the batches `sizes` asks for; the last size repeats."""
    out: list[Sequence[str]] = []
    start, step = 0, 0
    while start < len(queries):
        size = sizes[min(step, len(sizes) - 1)]
        out.append(queries[start : start + size])
        start, step = start + size, step + 1
    return out


def _needs_detail(
    ranked: Sequence[tuple[Candidate, Score]], rules: Rules, certain: bool
) -> list[Candidate]:
    """Candidates near enough the best to be worth a detail page; only the best if certain."""
    top = ranked[0][1].total
    limit = 1 if certain else rules.detail_candidates
    return [
        candidate
        for candidate, score in ranked[:limit]
        if not candidate.complete and score.total >= max(rules.accept, top - rules.detail_margin)
    ]


def _matched(track: LocalTrack, c: Candidate, score: Score, stats: TrackStats) -> MatchResult:
    return MatchResult(
        rekordbox_id=track.track_id,
        artist=track.artist,
        title=track.name,
        status="matched",
        beatport_id=c.beatport_id,
        score=score.total,
        bpm=c.bpm,
        key=c.key,
        camelot=c.camelot,
        genre=c.genre,
        sub_genre=c.sub_genre,
        label=c.label,
        release=c.release,
        release_date=c.release_date,
        isrc=c.isrc,
        url=c.url,
        stats=stats,
    )


def _unmatched(
    track: LocalTrack,
    ranked: Sequence[tuple[Candidate, Score]],
    stats: TrackStats,
    empty: str = "no candidates found",
) -> MatchResult:
    if ranked:
        best, score = ranked[0]
        reason = f"best candidate {best.beatport_id} scored {score.total:.2f}"
        if score.reason:
            reason += f" ({score.reason})"
    else:
        reason = empty
    return MatchResult(
        rekordbox_id=track.track_id,
        artist=track.artist,
        title=track.name,
        status="unmatched",
        reason=reason,
        stats=stats,
    )


def _error(track: LocalTrack, failure: Failure, stats: TrackStats) -> MatchResult:
    return MatchResult(
        rekordbox_id=track.track_id,
        artist=track.artist,
        title=track.name,
        status="error",
        reason=failure.reason,
        stats=stats,
    )
