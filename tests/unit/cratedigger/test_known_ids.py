"""Known ids: read from the tags, fetched once, checked against the tags; stale entries."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cratedigger.flow import NOT_IN_COLLECTION, Reply, match_flow
from cratedigger.known import known_id
from cratedigger.models import Candidate, Failure, LocalTrack, MatchResult, Request, Response
from cratedigger.scoring import prepare, verify

STROBE = Candidate(
    10, "Strobe", "Original Mix", ("deadmau5",), slug="strobe", bpm=128, key="Ab Minor"
)
GHOSTS = Candidate(12, "Ghosts 'n' Stuff", "Original Mix", ("deadmau5",), slug="ghosts-n-stuff")
TRACK = LocalTrack("1", "Strobe (Original Mix)", "deadmau5")


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("comments", "beatport:10", (10, "")),
        ("comments", "Peak time beatport:10 ISRC:GBABC1234567", (10, "")),
        ("comments", "https://www.beatport.com/track/strobe/10", (10, "strobe")),
        ("comments", "http://www.beatport.com/track/strobe/10", (10, "strobe")),
        ("comments", "https://pro.beatport.com/track/strobe/10", (10, "strobe")),
        ("comments", "bought: www.beatport.com/track/strobe/10?ref=x", (10, "strobe")),
        ("comments", "HTTPS://WWW.BEATPORT.COM/TRACK/Strobe/10", (10, "strobe")),
        ("name", "1234567_Strobe_Original_Mix", (1234567, "")),
        ("location", "file://localhost/Music/1234567_Strobe_Original_Mix.wav", (1234567, "")),
        ("location", "file://localhost/Music/1234567%5FStrobe.wav", (1234567, "")),
    ],
)
def test_ids_the_tags_carry(field: str, text: str, expected: tuple[int, str]) -> None:
    found = known_id(replace(TRACK, **{field: text}))
    assert found is not None and (found.beatport_id, found.slug) == expected


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("comments", "Energy 7, 128 BPM"),
        ("comments", "beatport: great track"),
        ("comments", "https://www.beatport.com/release/for-lack/123"),
        ("comments", "https://notbeatport.com/track/strobe/10"),
        ("name", "07 Strobe"),  # a track number is no id
        ("name", "1234567 Strobe"),  # an id is followed by "_" in Beatport's file names
        ("location", "file://localhost/Music/1234567/Strobe.mp3"),
    ],
)
def test_no_id_where_there_is_none(field: str, text: str) -> None:
    assert known_id(replace(TRACK, **{field: text})) is None


def test_the_comment_wins_over_the_file_name() -> None:
    track = replace(TRACK, comments="beatport:10", name="1234567_Strobe_Original_Mix")
    assert known_id(track) is not None and known_id(track).beatport_id == 10  # type: ignore[union-attr]


def test_verify_accepts_the_track_with_the_score_a_search_gives() -> None:
    score = verify(prepare(TRACK), STROBE)
    assert score is not None and score.total == 100.0


@pytest.mark.parametrize(
    ("local", "candidate"),
    [
        (TRACK, GHOSTS),  # another title by the same artist: the id was copied
        (TRACK, replace(STROBE, artists=("Kaskade",))),  # another artist
        (TRACK, replace(STROBE, mix_name="Victor Ruiz Remix", remixers=("Victor Ruiz",))),
        (LocalTrack("1", "Strobe (Dub)", "deadmau5"), STROBE),  # a version that is not it
    ],
)
def test_verify_refuses_what_the_tags_contradict(local: LocalTrack, candidate: Candidate) -> None:
    assert verify(prepare(local), candidate) is None


def test_verify_reads_a_file_name_that_runs_title_and_version_together() -> None:
    remix = Candidate(20, "Night", "Umbik Remix", ("Ana",), remixers=("Umbik",))
    local = LocalTrack("1", "2605828_Night_Umbik_Remix", "")
    score = verify(prepare(local), remix)
    assert score is not None and score.total == 100.0
    assert verify(prepare(local), replace(remix, name="Day")) is None


class Source:
    """A fake source: track requests answer from `tracks`, searches from `searches`."""

    name = "fake"

    def __init__(self, tracks: dict[int, Reply], searches: dict[str, list[Candidate]]):
        self.tracks = tracks
        self.searches = searches
        self.sent: list[Request] = []

    def search_request(self, query: str) -> Request:
        return Request("GET", "/search", (("q", query),), kind="search", query=query)

    def detail_request(self, candidate: Candidate) -> Request:
        return self.track_request(candidate.beatport_id)

    def track_request(self, beatport_id: int, slug: str = "") -> Request:
        return Request("GET", f"/track/{slug or 'track'}/{beatport_id}", kind="track")

    def parse(self, request: Request, response: Response) -> list[Candidate]:
        raise AssertionError("the flow never parses")

    def reply(self, request: Request) -> Reply:
        self.sent.append(request)
        if request.kind == "track":
            return self.tracks.get(int(request.path.rsplit("/", 1)[1]), Failure("HTTP 404", 404))
        return self.searches.get(request.query, [])


def run(track: LocalTrack, source: Source) -> MatchResult:
    flow = match_flow(track, source)
    try:
        batch = next(flow)
        while True:
            batch = flow.send([source.reply(r) for r in batch])
    except StopIteration as stop:
        result: MatchResult = stop.value
        return result


def test_a_verified_id_costs_one_request_and_no_search() -> None:
    source = Source({10: [STROBE]}, {})
    result = run(replace(TRACK, comments="https://www.beatport.com/track/strobe/10"), source)
    assert result.status == "matched" and result.beatport_id == 10 and result.score == 100.0
    assert [r.path for r in source.sent] == ["/track/strobe/10"]
    assert result.stats.requests == 1 and result.stats.queries == 0


@pytest.mark.parametrize("answer", [[GHOSTS], Failure("HTTP 404", 404), []])
def test_an_id_the_tags_do_not_bear_out_falls_back_to_searching(answer: Reply) -> None:
    source = Source({12: answer}, {"deadmau5 strobe": [STROBE]})
    result = run(replace(TRACK, comments="beatport:12"), source)
    assert result.status == "matched" and result.beatport_id == 10
    assert [r.kind for r in source.sent] == ["track", "search"]
    assert result.stats.requests == 2


def test_a_stale_entry_is_an_error_without_a_request() -> None:
    source = Source({}, {})
    stale = LocalTrack("99", "", "", in_collection=False)
    result = run(stale, source)
    assert (result.status, result.reason, result.rekordbox_id) == ("error", NOT_IN_COLLECTION, "99")
    assert source.sent == []


def test_an_unconfirmed_id_with_nothing_else_to_search_for_says_both() -> None:
    source = Source({10: [STROBE]}, {})  # the id's track is not that of empty tags
    result = run(LocalTrack("7", "", "", comments="beatport:10"), source)
    assert result.status == "unmatched" and result.reason is not None
    assert result.reason.startswith("nothing to search for")
    assert "the Beatport id in them (10) did not check out" in result.reason
    assert [r.kind for r in source.sent] == ["track"]
