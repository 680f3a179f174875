"""The demo playlist: a Rekordbox 6/7 XML library with real-world tag noise, and its truth.

`generate_playlist` samples catalog tracks (and about 10 % plausible tracks that are not in
the catalog) and gives each the local metadata a DJ's library would hold: the mix name in
the title or not, "feat." spellings, artists reordered, case changes, lost accents, a typo,
the remixer only in the title, Rekordbox key notation, analysed BPMs with decimals. No
noise makes the right answer ambiguous: only "Original Mix" is ever dropped. The demo
playlist sits at "Sets/Demo"; "Sets/Archive/Warm-up 2019" and the ROOT-level "Imported"
(KeyType 1: entries keyed by Location) are small extras, as real libraries have.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Final
from urllib.parse import quote
from xml.sax.saxutils import escape

from mockserver import vocab
from mockserver.catalog import Catalog, build_catalog
from mockserver.errors import SpecError
from mockserver.model import Track
from mockserver.search import fold
from mockserver.vocab import compose_artist, compose_title, title_words

__all__ = [
    "DEMO_FOLDER",
    "DEMO_NAME",
    "NOISE_KINDS",
    "DemoPlaylist",
    "LocalEntry",
    "generate_playlist",
    "render_rekordbox_xml",
    "truth_document",
    "write_demo_playlist",
    "write_rekordbox_xml",
    "write_truth",
]

DEMO_FOLDER: Final = "Sets"
DEMO_NAME: Final = "Demo"
MISSING_SHARE: Final = 0.1  # entries that are not in the catalog
EXTRA_TRACKS: Final = 6  # collection tracks outside the demo playlist
LAST_ADDED: Final = date(2026, 6, 30).toordinal()

# How a version shows in the local tags: (style, weight). "mix_attribute" is clean.
ORIGINAL_STYLES: Final = (
    ("mix_attribute", 50),
    ("original_in_title", 25),
    ("original_dropped", 25),
)
OTHER_STYLES: Final = (("mix_attribute", 60), ("mix_in_title", 40))
TONALITY_STYLES: Final = (("plain", 82), ("tonality_alt", 10), ("tonality_empty", 8))
# Share of the tracks each other kind of noise hits, among the tracks it can apply to.
NOISE_RATES: Final = {
    "feat_variant": 0.5,  # 2+ artists: "A feat. B", "A ft. B", "A & B"...
    "artist_order": 0.2,  # 2+ artists: listed in another order
    "feat_in_title": 0.15,  # 2+ artists: "Name feat. B", B not in Artist
    "remixer_only_in_title": 0.3,  # remixes: Remixer empty, "(X Remix)" in Name
    "typo": 0.06,  # one letter dropped, swapped or replaced in a title word
    "case": 0.06,  # lower, upper or title case
    "lost_diacritics": 0.5,  # tags with accents: written without
    "bpm_decimals": 0.3,  # analysed BPM "127.97" rather than "128.00"
}
NOISE_KINDS: Final = (
    *(s for s, _ in ORIGINAL_STYLES[1:]),
    *(s for s, _ in OTHER_STYLES[1:]),
    *(s for s, _ in TONALITY_STYLES[1:]),
    *NOISE_RATES,
)
FEAT_JOINERS: Final = (" feat. ", " ft. ", " Feat. ", " featuring ", " & ")
KINDS: Final = (
    ("MP3 File", 320, "mp3", 85),
    ("WAV File", 1411, "wav", 8),
    ("AIFF File", 1411, "aiff", 7),
)
RATINGS: Final = (0, 0, 0, 51, 102, 153, 204, 255)
_LATIN_END: Final = "\u0250"


@dataclass(frozen=True, slots=True)
class LocalEntry:
    """One TRACK of the collection as the local library holds it."""

    track_id: int  # Rekordbox TrackID
    truth: int | None  # the Beatport track it is, None if not in the catalog
    name: str
    artist: str
    album: str
    genre: str
    label: str
    mix: str
    remixer: str
    tonality: str
    bpm: str  # AverageBpm, "128.00"
    year: int
    total_time: int  # seconds
    track_number: int
    date_added: str
    kind: str
    bitrate: int
    size: int
    location: str
    play_count: int
    rating: int
    tempo_start: float | None  # a <TEMPO> child's Inizio, None if the track has none
    noise: tuple[str, ...]  # the noise kinds applied


@dataclass(frozen=True, slots=True)
class DemoPlaylist:
    """The demo playlist's entries in order, the rest of the collection, and provenance."""

    seed: int
    catalog_seed: int
    catalog_size: int
    entries: tuple[LocalEntry, ...]
    extras: tuple[LocalEntry, ...]

    @property
    def path(self) -> str:
        """The demo playlist's path in the playlist tree, ROOT left out."""
        return f"{DEMO_FOLDER}/{DEMO_NAME}"

    @property
    def collection(self) -> tuple[LocalEntry, ...]:
        return self.entries + self.extras


def generate_playlist(catalog: Catalog, tracks: int, seed: int) -> DemoPlaylist:
    """A demo playlist of `tracks` entries, about 10 % of them not in `catalog`."""
    missing = round(tracks * MISSING_SHARE)
    if tracks < 1:
        raise SpecError("playlist tracks", f"must be at least 1, got {tracks}")
    if tracks - missing + EXTRA_TRACKS > catalog.size:
        raise SpecError("playlist tracks", f"{tracks} is too many for {catalog.size} tracks")
    rng = random.Random(f"cratedigger-demo-playlist:{seed}")
    picks = rng.sample(range(catalog.size), tracks - missing + EXTRA_TRACKS)
    sources: list[Track | None] = [catalog.tracks[i] for i in picks[: tracks - missing]]
    sources += [None] * missing
    rng.shuffle(sources)
    sources += [catalog.tracks[i] for i in picks[tracks - missing :]]
    ids = rng.sample(range(10_000_000, 1_000_000_000), len(sources))
    maker = _EntryMaker(rng, catalog)
    entries = [maker.entry(track_id, source) for track_id, source in zip(ids, sources, strict=True)]
    return DemoPlaylist(
        seed, catalog.seed, catalog.size, tuple(entries[:tracks]), tuple(entries[tracks:])
    )


class _EntryMaker:
    """Turns a catalog track (or an invented one) into noisy local tags."""

    def __init__(self, rng: random.Random, catalog: Catalog) -> None:
        self.rng = rng
        self.catalog = catalog
        self.words = title_words(rng)
        self.locations: set[str] = set()

    def entry(self, track_id: int, source: Track | None) -> LocalEntry:
        rng = self.rng
        track = source if source is not None else self._invent()
        noise: list[str] = []
        title, artist, mix, remixer = self._names(track, noise)
        tonality = vocab.REKORDBOX_TONALITY[track.key.id]
        key_style = _pick(rng, TONALITY_STYLES)
        if key_style == "tonality_empty" or (key_style == "tonality_alt" and len(tonality) > 1):
            noise.append(key_style)
        key = {"plain": tonality[0], "tonality_alt": tonality[-1], "tonality_empty": ""}[key_style]
        bpm = float(track.bpm)
        if self._hit("bpm_decimals", noise):
            bpm += rng.choice((-1, 1)) * rng.randint(1, 6) / 100
        kind, bitrate, ext, _ = rng.choices(KINDS, [k[3] for k in KINDS])[0]
        seconds, year = track.length_ms // 1000, int(track.release.date[:4])
        first_day = max(date.fromisoformat(track.release.date).toordinal(), 735_000)
        added = date.fromordinal(rng.randint(min(first_day, LAST_ADDED), LAST_ADDED))
        stem = f"{artist} - {title}".replace("/", "-")
        path = f"/Users/dj/Music/Beatport/{year}/{stem}"
        while path in self.locations:
            path += " (1)"
        self.locations.add(path)
        location = "file://localhost" + quote(f"{path}.{ext}", safe="/()[]!$&'+,;=@~")
        size = seconds * bitrate * 125 + rng.randint(20_000, 400_000)
        tempo = round(rng.uniform(0.02, 0.6), 3) if rng.random() < 0.3 else None
        release = track.release
        # fmt: off
        return LocalEntry(
            track_id, source.id if source else None, title, artist, release.name,
            track.genre.name, release.label.name, mix, remixer, key, f"{bpm:.2f}", year,
            seconds, track.number, added.isoformat(), kind, bitrate, size, location,
            rng.randint(0, 40), rng.choice(RATINGS), tempo, tuple(noise),
        )
        # fmt: on

    def _names(self, track: Track, noise: list[str]) -> tuple[str, str, str, str]:
        """Name, Artist, Mix and Remixer tags, with their noise."""
        rng, name, mix = self.rng, track.name, track.mix_name
        artists = list(track.artist_names)
        remixer = ", ".join(a.name for a in track.remixers)
        style = _pick(rng, ORIGINAL_STYLES if mix == "Original Mix" else OTHER_STYLES)
        title_only = bool(remixer) and self._hit("remixer_only_in_title", noise)
        if title_only:
            style, remixer = "mix_in_title", ""
        feat = ""
        if len(artists) > 1 and self._hit("feat_in_title", noise):
            feat = rng.choice((" feat. {}", " (feat. {})")).format(artists.pop())
        if len(artists) > 1 and self._hit("artist_order", noise):
            artists.reverse()
        joiner = ", "
        if len(artists) > 1 and self._hit("feat_variant", noise):
            joiner = rng.choice(FEAT_JOINERS)
        artist = joiner.join([", ".join(artists[:-1]), artists[-1]]) if artists[1:] else artists[0]
        if rng.random() < NOISE_RATES["typo"] and (typo := _typo(rng, name)):
            # A typo that spells another title of the same artists would be ambiguous.
            clash = self.catalog.find_tracks(name=typo, artist_name=track.artist_names[0])
            if not clash:
                name = typo
                noise.append("typo")
        title, mix_tag = name + feat, mix
        if style != "mix_attribute":
            noise.append(style)
            if style != "original_dropped":
                title = f"{title} ({mix})"
            kept = style != "original_dropped" and not title_only and rng.random() < 0.5
            mix_tag = mix if kept else ""
        if self._hit("case", noise):
            change = rng.choice((str.lower, str.upper, _capitalise))
            title, artist = change(title), change(artist)
        stripped = _strip_accents(title), _strip_accents(artist)
        if stripped != (title, artist) and self._hit("lost_diacritics", noise):
            title, artist = stripped
        return title, artist, mix_tag, remixer

    def _hit(self, kind: str, noise: list[str]) -> bool:
        if self.rng.random() < NOISE_RATES[kind]:
            noise.append(kind)
            return True
        return False

    def _invent(self) -> Track:
        """A track made of the catalog's kind of words that the catalog does not have."""
        rng, catalog = self.rng, self.catalog
        template = catalog.tracks[rng.randrange(catalog.size)]
        while True:
            names = [compose_artist(rng) for _ in range(rng.choice((1, 1, 1, 2)))]
            name = compose_title(rng, self.words)
            folded = {fold(n) for n in names}
            same = catalog.find_tracks(name=name)
            if not any(folded & {fold(n) for n in t.artist_names} for t in same):
                break
        artists = tuple(replace(a, name=n) for a, n in zip(template.artists, names, strict=False))
        while len(artists) < len(names):
            artists += (replace(template.artists[0], name=names[len(artists)]),)
        mix = "Original Mix" if template.remixers else template.mix_name
        release = replace(template.release, name=name, artists=artists, remixers=())
        return replace(
            template, id=0, name=name, artists=artists, mix_name=mix, remixers=(), release=release
        )


def _pick(rng: random.Random, rows: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([r[0] for r in rows], [r[1] for r in rows])[0]


def _typo(rng: random.Random, name: str) -> str | None:
    """`name` with one letter of one word (4+ letters) dropped, swapped or replaced."""
    words = name.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return None
    i = rng.choice(candidates)
    word, pos = words[i], rng.randrange(1, len(words[i]) - 1)
    edits = (
        word[:pos] + word[pos + 1 :],
        word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :],
        word[:pos] + rng.choice("aeioulnrst".replace(word[pos].lower(), "")) + word[pos + 1 :],
    )
    changed = [e for e in edits if e != word]
    words[i] = rng.choice(changed)
    return " ".join(words)


def _capitalise(text: str) -> str:
    return " ".join(word[:1].upper() + word[1:].lower() for word in text.split(" "))


def _strip_accents(text: str) -> str:
    """Latin letters without their accents, case kept ("Ångström" -> "Angstrom")."""
    out = []
    for c in text:
        if c.isascii() or c >= _LATIN_END:
            out.append(c)
            continue
        c = vocab.SPECIAL_LETTERS.get(c, c)
        out.append(
            "".join(x for x in unicodedata.normalize("NFKD", c) if not unicodedata.combining(x))
        )
    return "".join(out)


def render_rekordbox_xml(playlist: DemoPlaylist) -> str:
    """The library as Rekordbox 6/7 exports it (collection, then the playlist tree)."""
    collection = playlist.collection
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "",
        '<DJ_PLAYLISTS Version="1.0.0">',
        '  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>',
        f'  <COLLECTION Entries="{len(collection)}">',
    ]
    for entry in collection:
        lines.extend(_track_lines(entry))
    entries, extras = playlist.entries, playlist.extras
    warmup = [str(e.track_id) for e in (*extras[:3], *entries[:2])]
    imported = [e.location for e in (*extras[3:], *entries[2:3])]
    lines += [
        "  </COLLECTION>",
        "  <PLAYLISTS>",
        '    <NODE Type="0" Name="ROOT" Count="2">',
        f'      <NODE Type="0" Name="{DEMO_FOLDER}" Count="2">',
        *_playlist_lines(DEMO_NAME, 0, [str(e.track_id) for e in entries], 8),
        '        <NODE Type="0" Name="Archive" Count="1">',
        *_playlist_lines("Warm-up 2019", 0, warmup, 10),
        "        </NODE>",
        "      </NODE>",
        *_playlist_lines("Imported", 1, imported, 6),
        "    </NODE>",
        "  </PLAYLISTS>",
        "</DJ_PLAYLISTS>",
        "",
    ]
    return "\n".join(lines)


def _attrs(pairs: tuple[tuple[str, object], ...]) -> str:
    return " ".join(f'{k}="{escape(str(v), {chr(34): "&quot;"})}"' for k, v in pairs)


# TRACK attributes in Rekordbox's order: (attribute, LocalEntry field or fixed value).
# fmt: off
TRACK_ATTRIBUTES: Final = (
    ("TrackID", "track_id"), ("Name", "name"), ("Artist", "artist"), ("Composer", ""),
    ("Album", "album"), ("Grouping", ""), ("Genre", "genre"), ("Kind", "kind"), ("Size", "size"),
    ("TotalTime", "total_time"), ("DiscNumber", "0"), ("TrackNumber", "track_number"),
    ("Year", "year"), ("AverageBpm", "bpm"), ("DateAdded", "date_added"),
    ("BitRate", "bitrate"), ("SampleRate", "44100"), ("Comments", ""),
    ("PlayCount", "play_count"), ("Rating", "rating"), ("Location", "location"),
    ("Remixer", "remixer"), ("Tonality", "tonality"), ("Label", "label"), ("Mix", "mix"),
)
# fmt: on
_FIELDS: Final = frozenset(LocalEntry.__slots__)


def _track_lines(e: LocalEntry) -> list[str]:
    attrs = _attrs(tuple((a, getattr(e, f) if f in _FIELDS else f) for a, f in TRACK_ATTRIBUTES))
    if e.tempo_start is None:
        return [f"    <TRACK {attrs}/>"]
    tempo = (("Inizio", f"{e.tempo_start:.3f}"), ("Bpm", e.bpm), ("Metro", "4/4"), ("Battito", 1))
    return [f"    <TRACK {attrs}>", f"      <TEMPO {_attrs(tempo)}/>", "    </TRACK>"]


def _playlist_lines(name: str, key_type: int, keys: list[str], indent: int) -> list[str]:
    pad = " " * indent
    head = _attrs((("Type", 1), ("Name", name), ("KeyType", key_type), ("Entries", len(keys))))
    body = [f"{pad}  <TRACK {_attrs((('Key', key),))}/>" for key in keys]
    return [f"{pad}<NODE {head}>", *body, f"{pad}</NODE>"]


def truth_document(playlist: DemoPlaylist) -> dict[str, object]:
    """The truth file's content: Beatport id (or None) per TrackID, in playlist order.

    `seed` is the catalog's seed, the one `python -m mockserver serve --seed` needs.
    """
    return {
        "seed": playlist.catalog_seed,
        "catalog_size": playlist.catalog_size,
        "playlist": playlist.path,
        "tracks": {str(e.track_id): e.truth for e in playlist.entries},
    }


def write_rekordbox_xml(playlist: DemoPlaylist, path: Path) -> None:
    """Write the Rekordbox XML library atomically."""
    _write_atomic(path, render_rekordbox_xml(playlist).encode("utf-8"))


def write_truth(playlist: DemoPlaylist, path: Path) -> None:
    """Write the truth JSON atomically."""
    text = json.dumps(truth_document(playlist), indent=2, ensure_ascii=False) + "\n"
    _write_atomic(path, text.encode("utf-8"))


def write_demo_playlist(
    *, seed: int, catalog_size: int, tracks: int, out: Path, truth: Path
) -> DemoPlaylist:
    """Build the catalog `python -m mockserver serve --seed S --catalog-size C` serves and
    write a demo playlist over it (`out`, Rekordbox XML) and its truth file."""
    playlist = generate_playlist(build_catalog(seed, catalog_size), tracks, seed)
    write_rekordbox_xml(playlist, out)
    write_truth(playlist, truth)
    return playlist


def _write_atomic(path: Path, data: bytes) -> None:
    # A temp file in the same directory and os.replace: readers never see half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
