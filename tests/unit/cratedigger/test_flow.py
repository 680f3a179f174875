"""The match flow, stepped by hand with a fake source: no sockets, no drivers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cratedigger.flow import Reply, match_flow
from cratedigger.models import Candidate, Failure, LocalTrack, MatchResult, Request, Response
from cratedigger.scoring import RULES, Rules

TRACK = LocalTrack("1", "Strobe (Original Mix)", "deadmau5")
EXACT = Candidate(
    10,
    "Strobe",
    "Original Mix",
    ("deadmau5",),
    slug="strobe",
    bpm=128,
    key="Ab Minor",
    camelot="1A",
    genre="Progressive House",
    label="mau5trap",
    release="For Lack",
    release_date="2009-09-22",
    isrc="X",
)
REMIX = replace(
    EXACT, beatport_id=11, mix_name="Layton Giordani Remix", remixers=("Layton Giordani",)
)
OTHER = Candidate(12, "Ghosts", "Original Mix", ("deadmau5",))


class FakeSource:
    """Answers each query from a table; detail requests give the complete candidate."""

    name = "fake"

    def __init__(self, answers: dict[str, list[Candidate] | Failure], complete: bool = True):
        self.answers = answers
        self.complete = complete
        self.sent: list[Request] = []

    def search_request(self, query: str) -> Request:
        return Request("GET", "/search", (("q", query),), kind="search", query=query)

    def detail_request(self, candidate: Candidate) -> Request:
        return Request("GET", f"/track/{candidate.beatport_id}", kind="track")

    def parse(self, request: Request, response: Response) -> list[Candidate]:
        raise AssertionError("the flow never parses")

    def reply(self, request: Request) -> Reply:
        self.sent.append(request)
        if request.kind == "track":
            found = {
                c.beatport_id: c
                for rows in self.answers.values()
                if not isinstance(rows, Failure)
                for c in rows
            }
            return [replace(found[int(request.path.rsplit("/", 1)[1])], complete=True)]
        answer = self.answers.get(request.query, [])
        if isinstance(answer, Failure):
            return answer
        return [replace(c, complete=self.complete) for c in answer]


def run(source: FakeSource, rules: Rules = RULES, track: LocalTrack = TRACK) -> MatchResult:
    flow = match_flow(track, source, rules)  # type: ignore[arg-type]
    try:
        batch = next(flow)
        while True:
            batch = flow.send([source.reply(r) for r in batch])
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def queries_of(track: LocalTrack) -> tuple[str, ...]:
    from cratedigger.queries import build_queries

    return build_queries(track)


def test_exact_match_exits_after_the_first_query() -> None:
    first = queries_of(TRACK)[0]
    source = FakeSource({first: [OTHER, REMIX, EXACT]})
    result = run(source)
    assert (result.status, result.beatport_id, result.camelot) == ("matched", 10, "1A")
    assert result.stats.early_exit and len(source.sent) == 1
    assert result.url == "https://www.beatport.com/track/strobe/10"


def test_no_candidate_is_unmatched_after_every_query() -> None:
    source = FakeSource({})
    result = run(source)
    assert result.status == "unmatched" and result.reason == "no candidates found"
    assert len(source.sent) == min(RULES.max_queries, len(queries_of(TRACK)))


def test_a_remix_is_not_the_original() -> None:
    source = FakeSource({q: [REMIX, OTHER] for q in queries_of(TRACK)})
    result = run(source)
    assert result.status == "unmatched" and result.beatport_id is None
    assert (result.reason or "").startswith("best candidate")


def test_a_failed_search_is_an_error_not_a_guess() -> None:
    first, second = queries_of(TRACK)[:2]
    source = FakeSource({first: [OTHER], second: Failure("HTTP 503 (gave up after 5 attempts)")})
    result = run(source)
    assert result.status == "error" and result.reason is not None and "503" in result.reason


@pytest.mark.parametrize("batches", [(1,), (1, 3), (2, 2), (4,)])
def test_batching_changes_requests_never_results(batches: tuple[int, ...]) -> None:
    queries = queries_of(TRACK)
    # The right track only turns up for the third query variant; a decoy for the fourth.
    answers: dict[str, list[Candidate] | Failure] = {queries[0]: [OTHER], queries[2]: [EXACT]}
    if len(queries) > 3:
        answers[queries[3]] = [replace(EXACT, beatport_id=9, name="Strobe", isrc="decoy")]
    sequential = run(FakeSource(answers), replace(RULES, search_batches=(1,)))
    batched_source = FakeSource(answers)
    batched = run(batched_source, replace(RULES, search_batches=batches))
    assert batched == sequential and batched.beatport_id == 10
    assert batched.stats.queries == sequential.stats.queries == 3


def test_incomplete_candidates_get_their_detail_request() -> None:
    first = queries_of(TRACK)[0]
    source = FakeSource({first: [EXACT, OTHER]}, complete=False)
    result = run(source)
    assert [r.kind for r in source.sent] == ["search", "track"]
    assert result.status == "matched" and result.stats.requests == 2


def test_rules_reject_bad_batches() -> None:
    from cratedigger.errors import InputError

    with pytest.raises(InputError, match="search_batches"):
        replace(RULES, search_batches=(0,))


def test_an_entry_without_title_artist_or_file_name_says_so_without_a_request() -> None:
    source = FakeSource({})
    result = run(source, track=LocalTrack("7", "", " "))
    assert result.status == "unmatched"
    assert result.reason is not None and result.reason.startswith("nothing to search for")
    assert source.sent == []
