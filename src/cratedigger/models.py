"""Value objects shared by the pure core and the I/O drivers.

Everything here is a frozen dataclass: the match flow, the protocol parsers and the
drivers pass these around, and nothing in this module does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

RequestKind = Literal["search", "track", "page", "token", "account"]
MatchStatus = Literal["matched", "unmatched", "error"]

# Column order of every result file (JSON keys, CSV header). Changing it changes the output.
RESULT_FIELDS: tuple[str, ...] = (
    "rekordbox_id",
    "artist",
    "title",
    "status",
    "beatport_id",
    "score",
    "bpm",
    "key",
    "camelot",
    "genre",
    "sub_genre",
    "label",
    "release",
    "release_date",
    "isrc",
    "url",
    "reason",
)


@dataclass(frozen=True, slots=True)
class LocalTrack:
    """One track of the Rekordbox collection, as the DJ's library describes it."""

    track_id: str
    name: str
    artist: str
    album: str = ""
    genre: str = ""
    label: str = ""
    mix: str = ""
    remixer: str = ""
    bpm: float | None = None
    tonality: str = ""
    year: int | None = None
    total_time: int | None = None  # seconds, as Rekordbox stores it
    location: str = ""
    comments: str = ""
    # False for a playlist entry that points to no track of the collection (a stale entry):
    # `track_id` is then the entry's key, and the flow reports it without a request.
    in_collection: bool = True


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request the flow wants sent; `path` is relative to the driver's base URL."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    kind: RequestKind = "search"
    query: str = ""  # the text searched for (metrics); empty for detail requests
    form: tuple[tuple[str, str], ...] | None = None  # urlencoded POST body
    auth: bool = False  # needs the bearer token

    def target(self) -> str:
        """Path plus query string, in the order the protocol built it."""
        if not self.params:
            return self.path
        return f"{self.path}?{urlencode(self.params)}"

    def url(self, base_url: str) -> str:
        return base_url.rstrip("/") + self.target()


@dataclass(frozen=True, slots=True)
class Response:
    """What came back over the wire (or out of the cache)."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    from_cache: bool = False


@dataclass(frozen=True, slots=True)
class Failure:
    """A request that failed for good, after the retry policy gave up.

    `halted`: it never got its answer because the run was halted (the server unreachable
    for the outage budget, or a bot challenge); its track is left for `--resume`."""

    reason: str
    status: int | None = None
    halted: bool = False


@dataclass(frozen=True, slots=True)
class Candidate:
    """A Beatport track as a search result or a detail page describes it."""

    beatport_id: int
    name: str
    mix_name: str
    artists: tuple[str, ...]
    remixers: tuple[str, ...] = ()
    slug: str = ""
    bpm: int | None = None
    key: str | None = None
    camelot: str | None = None
    genre: str | None = None
    sub_genre: str | None = None
    label: str | None = None
    release: str | None = None
    release_date: str | None = None
    isrc: str | None = None
    length_ms: int | None = None
    complete: bool = True  # False when a detail request would add fields (web search rows)

    @property
    def url(self) -> str:
        slug = self.slug or "track"
        return f"https://www.beatport.com/track/{slug}/{self.beatport_id}"


@dataclass(frozen=True, slots=True)
class TrackStats:
    """How the flow got to its answer; reported in metrics, never in result files."""

    queries: int = 0
    requests: int = 0
    candidates: int = 0
    early_exit: bool = False


@dataclass(frozen=True, slots=True)
class MatchResult:
    """One line of the output: a playlist entry and what Beatport says about it."""

    rekordbox_id: str
    artist: str
    title: str
    status: MatchStatus
    beatport_id: int | None = None
    score: float | None = None
    bpm: int | None = None
    key: str | None = None
    camelot: str | None = None
    genre: str | None = None
    sub_genre: str | None = None
    label: str | None = None
    release: str | None = None
    release_date: str | None = None
    isrc: str | None = None
    url: str | None = None
    reason: str | None = None
    stats: TrackStats = field(default_factory=TrackStats, compare=False, repr=False)

    @classmethod
    def failed(cls, track: LocalTrack, reason: str) -> MatchResult:
        """An error result for a track that was not (or could not be) searched."""
        return cls(track.track_id, track.artist, track.name, "error", reason=reason)

    def to_dict(self) -> dict[str, object]:
        """The result as written to JSON and CSV, keys in RESULT_FIELDS order."""
        return {name: getattr(self, name) for name in RESULT_FIELDS}

    @classmethod
    def from_dict(cls, row: Mapping[str, object]) -> MatchResult:
        """Inverse of to_dict (used by --resume); unknown keys are ignored."""
        return cls(**{name: row.get(name) for name in RESULT_FIELDS})  # type: ignore[arg-type]


# What a request comes back as, once the retry policy is done with it: the candidates its
# answer lists, or the failure that ended it.
Reply = list[Candidate] | Failure
