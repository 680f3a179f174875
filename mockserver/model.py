"""The mock catalog's value objects: what a Beatport track, release, label... is, here.

The catalog builder (`mockserver.catalog`) makes these; the search index, the API and
website renderers and the playlist generator read them. Rendering into Beatport's real
schemas (see tests/fixtures/beatport/) happens in the renderers, not here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Artist:
    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class Label:
    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class Genre:
    id: int
    name: str  # the real Beatport genre list, e.g. "Melodic House & Techno"
    slug: str
    bpm_min: int
    bpm_max: int


@dataclass(frozen=True, slots=True)
class SubGenre:
    id: int
    name: str
    slug: str
    genre_id: int


@dataclass(frozen=True, slots=True)
class Key:
    """A musical key as Beatport's API describes it (`key` object of a track)."""

    id: int
    name: str  # "Ab Minor", "F Major"
    letter: str  # "A", "F"
    is_sharp: bool
    is_flat: bool
    chord: str  # "Minor" | "Major"
    chord_id: int  # 1 Minor, 2 Major
    camelot_number: int
    camelot_letter: str  # "A" minor, "B" major

    @property
    def camelot(self) -> str:
        return f"{self.camelot_number}{self.camelot_letter}"


@dataclass(frozen=True, slots=True)
class Release:
    id: int
    name: str
    slug: str
    label: Label
    catalog_number: str
    upc: str
    date: str  # ISO date, "2024-09-13"
    artists: tuple[Artist, ...]
    remixers: tuple[Artist, ...]
    track_ids: tuple[int, ...]
    image_uuid: str  # used to render image URIs


@dataclass(frozen=True, slots=True)
class Track:
    id: int
    name: str  # "Strobe"
    mix_name: str  # "Original Mix", "Extended Mix", "Layton Giordani Remix", ...
    slug: str
    artists: tuple[Artist, ...]  # featured artists are part of `artists`, as on Beatport
    remixers: tuple[Artist, ...]
    release: Release
    genre: Genre
    sub_genre: SubGenre | None
    key: Key
    bpm: int
    length_ms: int
    isrc: str
    number: int  # position on the release
    publish_date: str  # ISO date
    image_uuid: str

    @property
    def title(self) -> str:
        """The title as stores and DJ software show it: "Name (Mix Name)"."""
        return f"{self.name} ({self.mix_name})"

    @property
    def artist_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.artists)
