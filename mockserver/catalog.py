"""The synthetic Beatport catalog: seeded, deterministic, from 10 to 1,000,000 tracks.

`build_catalog(seed, size)` draws every choice from one `random.Random(seed)` in a fixed
order (no `hash()` of strings, no set iteration), so a (seed, size) pair gives the same
catalog on every machine and run. Releases come out in date order with increasing ids, as
on Beatport; a release holds 1 to 6 tracks: a single's versions of one title (Original,
Extended, Radio Edit, remixes...), an EP of several titles, or a later remix package of an
earlier title. Artists and title words are drawn with Zipf-like weights so some artists
and words are everywhere, and (artists, name, mix name) is unique across the catalog.
"""

from __future__ import annotations

import gc
import itertools
import random
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from mockserver import vocab
from mockserver.errors import SpecError
from mockserver.model import Artist, Genre, Key, Label, Release, SubGenre, Track
from mockserver.search import fold
from mockserver.vocab import Weighted, compose_artist, compose_title, title_words, zipf_weights

__all__ = [
    "MAX_SIZE",
    "MIN_SIZE",
    "Catalog",
    "build_catalog",
    "slugify",
]

MIN_SIZE: Final = 10
MAX_SIZE: Final = 1_000_000
FIRST_DAY: Final = date(2005, 1, 1).toordinal()
LAST_DAY: Final = date(2026, 6, 30).toordinal()
# Shares of titles with two main artists, with a featured artist, with a sub-genre; of
# titles outside their label's genre; of remixes in a key other than the original's.
COLLAB_RATE: Final = 0.15
FEATURE_RATE: Final = 0.12
SUB_GENRE_RATE: Final = 0.3
OFF_GENRE_RATE: Final = 0.15
REMIX_NEW_KEY_RATE: Final = 0.6
EP_TITLES: Final = ((2, 4), (3, 3), (4, 2), (5, 1))  # (titles on an EP, weight)
REMIX_POOL: Final = 4096  # earlier titles a remix package may pick from
REMIX_DELAY_DAYS: Final = (30, 900)

_NOT_SLUG: Final = re.compile(r"[^a-z0-9]+")
_APOSTROPHES: Final = str.maketrans("", "", "'’‘`´")
_ALNUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def slugify(text: str) -> str:
    """Beatport's slug: folded, apostrophes dropped, other runs of non-alphanumerics "-"."""
    return _NOT_SLUG.sub("-", fold(text).translate(_APOSTROPHES)).strip("-")


def _key(text: str) -> str:
    return " ".join(fold(text).split())


class Catalog:
    """Tracks and releases in id order, with lookups by id and the API's track filters."""

    __slots__ = (
        *("_filters", "_release_ids", "_track_ids"),
        *("artists", "labels", "releases", "seed", "size", "tracks"),
    )

    def __init__(
        self,
        seed: int,
        tracks: Sequence[Track],
        releases: Sequence[Release],
        artists: Sequence[Artist],
        labels: Sequence[Label],
    ) -> None:
        self.seed = seed
        self.size = len(tracks)
        self.tracks: Sequence[Track] = tuple(tracks)
        self.releases: Sequence[Release] = tuple(releases)
        self.artists: Sequence[Artist] = tuple(artists)
        self.labels: Sequence[Label] = tuple(labels)
        # Sorted ids and bisect rather than dicts: lean at a million tracks.
        self._track_ids = [t.id for t in self.tracks]
        self._release_ids = [r.id for r in self.releases]
        self._filters: dict[str, dict[str, list[int]]] = {}

    def track(self, track_id: int) -> Track | None:
        """The track with this id, or None."""
        i = bisect_left(self._track_ids, track_id)
        found = i < len(self._track_ids) and self._track_ids[i] == track_id
        return self.tracks[i] if found else None

    def release(self, release_id: int) -> Release | None:
        """The release with this id, or None."""
        i = bisect_left(self._release_ids, release_id)
        found = i < len(self._release_ids) and self._release_ids[i] == release_id
        return self.releases[i] if found else None

    def find_tracks(
        self,
        *,
        name: str | None = None,
        artist_name: str | None = None,
        mix_name: str | None = None,
        isrc: str | None = None,
    ) -> list[Track]:
        """Tracks equal (case- and accent-blind) on every given filter, in id order."""
        wanted = {"name": name, "artist_name": artist_name, "mix_name": mix_name, "isrc": isrc}
        matches = [self._index(f).get(_key(v), []) for f, v in wanted.items() if v]
        if not matches:
            return list(self.tracks)
        matches.sort(key=len)
        found = set(matches[0]).intersection(*matches[1:])
        return [self.tracks[i] for i in sorted(found)]

    def _index(self, field: str) -> dict[str, list[int]]:
        # Built per field on first use: at 1M tracks each costs seconds and much memory.
        index = self._filters.get(field)
        if index is None:
            index = {}
            for ordinal, track in enumerate(self.tracks):
                for value in _FILTER_VALUES[field](track):
                    ordinals = index.setdefault(_key(value), [])
                    if not ordinals or ordinals[-1] != ordinal:
                        ordinals.append(ordinal)
            self._filters[field] = index
        return index


_FILTER_VALUES: Final[dict[str, Callable[[Track], Sequence[str]]]] = {
    "name": lambda t: (t.name,),
    "artist_name": lambda t: t.artist_names,
    "mix_name": lambda t: (t.mix_name,),
    "isrc": lambda t: (t.isrc,),
}


def build_catalog(seed: int = 1, size: int = 20000) -> Catalog:
    """The catalog of exactly `size` tracks for `seed`; same inputs, same catalog."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise SpecError("catalog size", f"must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    # The build makes millions of objects and no reference cycles: the collector's passes
    # over the growing heap would only cost time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        rng = random.Random(seed)
        artists = _make_artists(rng, max(16, size // 5))
        labels = _make_labels(rng, max(4, size // 80))
        builder = _Builder(rng, size, artists, labels)
        builder.run()
        return Catalog(seed, builder.tracks, builder.releases, artists, [s.label for s in labels])
    finally:
        if collecting:
            gc.enable()


def _unique_names(
    rng: random.Random, count: int, make: Callable[[random.Random], str]
) -> list[str]:
    seen: set[str] = set()
    names: list[str] = []
    while len(names) < count:
        name = make(rng)
        if (key := _key(name)) not in seen:
            seen.add(key)
            names.append(name)
    return names


def _make_artists(rng: random.Random, count: int) -> list[Artist]:
    non_latin = vocab.NON_LATIN_ARTISTS[: max(1, min(len(vocab.NON_LATIN_ARTISTS), count // 200))]
    names = [(n, slugify(n)) for n in _unique_names(rng, count - len(non_latin), compose_artist)]
    for pair in non_latin:  # at random ranks: some prolific, some not
        names.insert(rng.randrange(len(names) + 1), pair)
    gap, ident = max(2, min(50, 3_000_000 // count)), rng.randint(1_000, 9_000)
    artists: list[Artist] = []
    for name, slug in names:
        artists.append(Artist(ident, name, slug))
        ident += rng.randint(1, gap)
    return artists


@dataclass(slots=True)
class _LabelState:
    """A label and the counters its releases draw numbers from."""

    label: Label
    prefix: str  # of catalog numbers, "VSN"
    suffix: str  # of catalog numbers, "D"
    number: int  # of the last release
    registrant: str  # ISRC country and registrant, "GBTDG"
    genre: Genre
    isrc_next: dict[int, int]  # two-digit year -> next ISRC designation


def _label_name(rng: random.Random) -> str:
    words = [rng.choice(vocab.LABEL_WORDS)]
    if rng.random() < 0.3:
        words.append(rng.choice(vocab.LABEL_WORDS))
    words.append(str(rng.choices(*zip(*vocab.LABEL_SUFFIXES, strict=True))[0]))
    return " ".join(words).strip()


def _make_labels(rng: random.Random, count: int) -> list[_LabelState]:
    genres = Weighted(rng, vocab.GENRES, vocab.GENRE_WEIGHTS)
    suffixes = Weighted.rows(rng, vocab.CATALOG_SUFFIXES)
    gap, ident = max(2, min(40, 900_000 // count)), rng.randint(1, 2_000)
    taken: set[str] = set()  # catalog-number prefixes and ISRC registrants in use
    states: list[_LabelState] = []
    for name in _unique_names(rng, count, _label_name):
        letters = [c for c in slugify(name).upper() if c.isalpha()]
        stem = "".join((letters[:1] + [c for c in letters[1:] if c not in "AEIOU"])[:3])
        stem = stem.ljust(3, "X")
        prefix = next(p for n in itertools.count(1) if (p := stem + str(n) * (n > 1)) not in taken)
        registrant = ""
        while not registrant or registrant in taken:
            code = "".join(rng.choice(_ALNUM) for _ in range(3))
            registrant = rng.choice(vocab.ISRC_COUNTRIES) + code
        taken.update((prefix, registrant))
        label = Label(ident, name, slugify(name))
        state = _LabelState(
            label, prefix, suffixes.pick(), rng.randint(0, 40), registrant, genres.pick(), {}
        )
        states.append(state)
        ident += rng.randint(1, gap)
    return states


@dataclass(slots=True)
class _Title:
    """One work: its versions share name, artists, label and (mostly) BPM and key."""

    name: str
    slug: str
    artists: tuple[Artist, ...]
    label: _LabelState
    genre: Genre
    sub_genre: SubGenre | None
    key: Key
    bpm: int
    day: int  # of its first release
    mixes: set[str]  # folded mix names it has; membership only, never iterated


# (title, mix kind, mix name, remixer): one track of a release to be.
_Item = tuple[_Title, str, str, Artist | None]


class _Builder:
    """Draws releases one after another, in date order, until `size` tracks exist."""

    def __init__(
        self, rng: random.Random, size: int, artists: list[Artist], labels: list[_LabelState]
    ) -> None:
        self.rng, self.random, self.size = rng, rng.random, size
        self.artists = Weighted(rng, artists, zipf_weights(len(artists), 20.0))
        self.labels = Weighted(rng, labels, zipf_weights(len(labels), 10.0))
        self.words = title_words(rng)
        self.genres = Weighted(rng, vocab.GENRES, vocab.GENRE_WEIGHTS)
        self.keys = Weighted(rng, vocab.KEYS, vocab.KEY_WEIGHTS)
        self.shapes = Weighted.rows(rng, vocab.RELEASE_SHAPES)
        self.single_plans = Weighted.rows(rng, vocab.SINGLE_PLANS)
        self.remix_plans = Weighted.rows(rng, vocab.REMIX_PLANS)
        self.ep_sizes = Weighted.rows(rng, EP_TITLES)
        self.ep_suffixes = Weighted.rows(rng, vocab.EP_SUFFIXES)
        self.sub_genres = {
            g.id: [s for s in vocab.SUB_GENRES if s.genre_id == g.id] for g in vocab.GENRES
        }
        self.tracks: list[Track] = []
        self.releases: list[Release] = []
        self.pool: list[_Title] = []
        self.used: set[str] = set()  # "artist ids|folded name" of every title
        self.dates: dict[int, str] = {}  # one shared string per day
        self.slugs: dict[str, str] = {}  # titles repeat: one slug string per name
        # Id gaps keep tracks at 7-8 digits and releases at 6-7 up to a million tracks.
        self.track_id = rng.randint(1_000_000, 1_500_000)
        self.track_gap = max(2, min(400, 90_000_000 // size))
        self.release_id = rng.randint(100_000, 300_000)
        self.release_gap = max(2, min(60, 6_000_000 // size))
        self.upc = rng.randrange(10**10, 5 * 10**10)

    def run(self) -> None:
        while len(self.tracks) < self.size:
            day = FIRST_DAY + int((LAST_DAY - FIRST_DAY) * len(self.tracks) / self.size)
            day += int(self.random() * 21)
            shape = self.shapes.pick()
            if shape == "remixes" and self.pool:
                title = self.rng.choice(self.pool)
                day = max(day, title.day + self.rng.randint(*REMIX_DELAY_DAYS))
                items = self._versions(title, self.remix_plans.pick())
                single = len(items) == 1
                name = f"{title.name} ({items[0][2]})" if single else f"{title.name} (Remixes)"
            elif shape == "ep":
                items, name = self._ep(day)
            else:
                title = self._new_title(self._pick_artists(), self.labels.pick(), day)
                items, name = self._versions(title, self.single_plans.pick()), title.name
            if items := items[: self.size - len(self.tracks)]:
                self._emit(items, name, min(day, LAST_DAY))

    def _ep(self, day: int) -> tuple[list[_Item], str]:
        artists, label = self._pick_artists(), self.labels.pick()
        plan = self.rng.choice(vocab.EP_VERSIONS)
        titles = [self._new_title(artists, label, day) for _ in range(self.ep_sizes.pick())]
        items = [item for t in titles for item in self._versions(t, plan)]
        if self.random() < 0.5:
            return items, f"{titles[0].name} EP"
        return items, f"{compose_title(self.rng, self.words)} {self.ep_suffixes.pick()}".strip()

    def _versions(self, title: _Title, plan: tuple[tuple[str, int], ...]) -> list[_Item]:
        remixers: dict[int, Artist] = {}
        items: list[_Item] = []
        for kind, slot in plan:
            remixer = remixers.get(slot) or (self._remixer(title, remixers) if slot >= 0 else None)
            if slot >= 0 and remixer is None:
                continue
            if remixer is not None:
                remixers[slot] = remixer
            mix = vocab.MIX_KINDS[kind][0].format(r=remixer.name if remixer else "")
            if (folded := fold(mix)) not in title.mixes:
                title.mixes.add(folded)
                items.append((title, kind, mix, remixer))
        return items

    def _remixer(self, title: _Title, taken: dict[int, Artist]) -> Artist | None:
        busy = {a.id for a in title.artists} | {a.id for a in taken.values()}
        for _ in range(10):
            if (artist := self.artists.pick()).id not in busy:
                return artist
        return None

    def _pick_artists(self) -> tuple[Artist, ...]:
        first = self.artists.pick()
        if self.random() < COLLAB_RATE and (second := self.artists.pick()).id != first.id:
            return (first, second)
        return (first,)

    def _new_title(self, artists: tuple[Artist, ...], label: _LabelState, day: int) -> _Title:
        rng, rnd = self.rng, self.random
        if rnd() < FEATURE_RATE and (feat := self.artists.pick()) not in artists:
            artists = (*artists, feat)
        ids = ",".join(str(a.id) for a in artists)
        name = compose_title(rng, self.words)
        while f"{ids}|{fold(name)}" in self.used:
            name = compose_title(rng, self.words)
        self.used.add(f"{ids}|{fold(name)}")
        genre = self.genres.pick() if rnd() < OFF_GENRE_RATE else label.genre
        subs = self.sub_genres[genre.id]
        sub = subs[int(rnd() * len(subs))] if subs and rnd() < SUB_GENRE_RATE else None
        key, bpm = self.keys.pick(), _bpm(genre, rnd())
        title = _Title(name, self._slug(name), artists, label, genre, sub, key, bpm, day, set())
        if len(self.pool) < REMIX_POOL:
            self.pool.append(title)
        else:
            self.pool[int(rnd() * REMIX_POOL)] = title
        return title

    def _emit(self, items: list[_Item], name: str, day: int) -> None:
        rnd = self.random
        when = self.dates.get(day) or self.dates.setdefault(day, date.fromordinal(day).isoformat())
        label = items[0][0].label
        label.number += 1
        self.upc += 1 + int(rnd() * 97)
        ids = tuple(range(self.track_id, self.track_id + len(items)))
        self.track_id += len(items) + 1 + int(rnd() * self.track_gap)
        release = Release(
            self.release_id,
            name,
            self._slug(name),
            label.label,
            f"{label.prefix}{label.number:03d}{label.suffix}",
            _upc(self.upc),
            when,
            _union([item[0].artists for item in items]),
            _union([(item[3],) for item in items if item[3]]),
            ids,
            self._uuid(),
        )
        self.release_id += 1 + int(rnd() * self.release_gap)
        self.releases.append(release)
        year = int(when[2:4])
        for number, (track_id, (title, kind, mix, remixer)) in enumerate(
            zip(ids, items, strict=True), 1
        ):
            _, low, high, keeps = vocab.MIX_KINDS[kind]
            bpm, key = title.bpm, title.key
            if not keeps:  # a remix or VIP is a new production
                bpm = _bpm(title.genre, rnd())
                key = self.keys.pick() if rnd() < REMIX_NEW_KEY_RATE else key
            serial = label.isrc_next.get(year)
            serial = int(rnd() * 30_000) if serial is None else serial
            label.isrc_next[year] = serial + 1
            track = Track(
                track_id,
                title.name,
                mix,
                title.slug,
                title.artists,
                (remixer,) if remixer else (),
                release,
                title.genre,
                title.sub_genre,
                key,
                bpm,
                int((low + rnd() * (high - low)) * 1000),
                f"{label.registrant}{year:02d}{serial:05d}",
                number,
                when,
                self._uuid(),
            )
            self.tracks.append(track)

    def _slug(self, name: str) -> str:
        slug = self.slugs.get(name)
        if slug is None:
            slug = self.slugs[name] = slugify(name)
        return slug

    def _uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _bpm(genre: Genre, draw: float) -> int:
    return genre.bpm_min + int(draw * (genre.bpm_max - genre.bpm_min + 1))


def _union(groups: list[tuple[Artist, ...]]) -> tuple[Artist, ...]:
    if len(groups) == 1 or (groups and all(g is groups[0] for g in groups)):
        return groups[0]  # one title's artists: share the tuple
    seen: dict[int, Artist] = {}
    for group in groups:
        for artist in group:
            seen.setdefault(artist.id, artist)
    return tuple(seen.values())


def _upc(body: int) -> str:
    """A 12-digit UPC-A: 11 digits and their check digit."""
    digits = f"{body:011d}"
    total = 3 * sum(map(int, digits[0::2])) + sum(map(int, digits[1::2]))
    return f"{digits}{-total % 10}"
