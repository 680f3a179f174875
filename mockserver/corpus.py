"""The real-world noise corpus: catalog tracks tagged the ways real DJ collections tag them.

The demo playlist (`mockserver.playlist`) mixes a few kinds of noise at random rates; this
corpus is the harder, itemised test a matcher is measured on. Every entry has exactly one
*pattern*, documented in `PATTERNS` with where it comes from in real collections:

* Rekordbox reads the title, artist, album, label, mix, remixer and comment tags (ID3,
  Vorbis, MP4) and, for a file without tags, takes the file name as the title;
* Beatport downloads (tags written by the store, WAVs without tags, `<id>_<title>` names);
* promo pools and label promos (bracketed labels, catalog numbers, "[PROMO]");
* vinyl rips and CD rips (side-and-position or track-number prefixes, ID3v1's 30 characters,
  "Various Artists" compilations with the track artist in the title);
* tag editors and DJ tools (Mixed In Key's key prefixes, "A;B" artist lists, cratedigger's
  own `beatport:ID` comment, other tools' Beatport URLs).

*Match* patterns keep the track identifiable: a human reading the tags would name the same
Beatport track, and the generator checks the catalog so no noise makes another track an
equally good answer (a typo that spells another title, a truncation that fits two versions).
*Near misses* must stay unmatched: a real title under an artist who never recorded it, a
version the store does not have, an invented title by a real artist.

Each pattern draws its tracks with its own seeded generator (so adding a pattern does not
change the others' entries); a track is used once in the whole corpus. The corpus is written
as a Rekordbox XML library (playlist `Corpus/Noise`) and a truth file in the demo playlist's
format, with each entry's pattern added.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal
from urllib.parse import quote
from xml.sax.saxutils import escape

from mockserver import vocab
from mockserver.catalog import Catalog, build_catalog
from mockserver.model import Artist, Track
from mockserver.search import fold
from mockserver.vocab import compose_title, title_words

__all__ = [
    "CORPUS_PLAYLIST",
    "PATTERNS",
    "Corpus",
    "CorpusEntry",
    "Pattern",
    "Tags",
    "corpus_truth",
    "generate_corpus",
    "render_corpus_xml",
    "write_corpus",
]

CORPUS_FOLDER: Final = "Corpus"
CORPUS_NAME: Final = "Noise"
CORPUS_PLAYLIST: Final = f"{CORPUS_FOLDER}/{CORPUS_NAME}"
MATCH_ENTRIES: Final = 15  # entries per match pattern
NEAR_MISS_ENTRIES: Final = 18  # entries per near-miss pattern
ID3V1_LENGTH: Final = 30
FIRST_TRACK_ID: Final = 70_000_001

Kind = Literal["match", "near_miss"]


@dataclass(frozen=True, slots=True)
class Tags:
    """What the collection's TRACK says; `variant` names the spelling the pattern chose."""

    name: str
    artist: str
    variant: str
    mix: str = ""
    remixer: str = ""
    comments: str = ""
    file_stem: str = ""  # the file's name without extension, if not "Artist - Name"
    extension: str = "mp3"


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    track_id: int  # Rekordbox TrackID
    pattern: str
    truth: int | None  # the Beatport track the entry is, None for a near miss
    source: int  # the catalog track the tags were made from
    tags: Tags
    album: str
    label: str
    genre: str
    bpm: int
    year: int
    seconds: int
    location: str


@dataclass(frozen=True, slots=True)
class Corpus:
    seed: int
    catalog_seed: int
    catalog_size: int
    entries: tuple[CorpusEntry, ...]

    @property
    def path(self) -> str:
        return CORPUS_PLAYLIST


class _Draw:
    """What a pattern needs: its random generator, the catalog, and catalog lookups."""

    def __init__(self, rng: random.Random, catalog: Catalog) -> None:
        self.rng = rng
        self.catalog = catalog
        self.words = title_words(rng)

    def versions(self, track: Track) -> list[Track]:
        """Every store version of `track`'s title by the same artists, `track` included."""
        ids = [a.id for a in track.artists]
        same = self.catalog.find_tracks(name=track.name, artist_name=track.artists[0].name)
        return [t for t in same if [a.id for a in t.artists] == ids]

    def has_title(self, name: str, artist: str) -> bool:
        return bool(self.catalog.find_tracks(name=name, artist_name=artist))

    def other_artist(self, avoid: Sequence[str]) -> Artist:
        """A catalog artist whose name is at least 3 edits from every name in `avoid`."""
        folded = [fold(a) for a in avoid]
        while True:
            artist = self.catalog.artists[self.rng.randrange(len(self.catalog.artists))]
            name = fold(artist.name)
            if name.isascii() and all(_distance(name, a) >= 3 for a in folded):
                return artist


MakeTags = Callable[[_Draw, Track], Tags | None]


@dataclass(frozen=True, slots=True)
class Pattern:
    name: str
    kind: Kind
    doc: str  # what it is, and where real collections get it
    make: MakeTags = field(repr=False)  # None when the pattern does not fit the track


# -- Helpers ------------------------------------------------------------------------------


def _credit(artists: Sequence[Artist], joiner: str = ", ") -> str:
    return joiner.join(a.name for a in artists)


def _full(track: Track) -> str:
    return f"{track.name} ({track.mix_name})"


def _remixers(track: Track) -> str:
    return _credit(track.remixers)


def _clean(track: Track, variant: str, **changes: str) -> Tags:
    """The tags a store download carries ("Name (Mix)", every artist), with `changes`."""
    base = {"name": _full(track), "artist": _credit(track.artists), "remixer": _remixers(track)}
    base.update(changes)
    return Tags(variant=variant, **base)


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (small strings only)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _strip_accents(text: str) -> str:
    out = []
    for char in text:
        char = vocab.SPECIAL_LETTERS.get(char, char)
        out.append(
            "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        )
    return "".join(out)


def _is_latin(text: str) -> bool:
    return all(c < "\u0250" for c in text)


_ACCENTED: Final = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "n": "ñ"}


def _one_edit(rng: random.Random, word: str) -> str:
    """`word` with one inner letter dropped, swapped with the next, or replaced."""
    pos = rng.randrange(1, len(word) - 1)
    edits = [
        word[:pos] + word[pos + 1 :],
        word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :],
        word[:pos] + rng.choice("aeioulnrst".replace(word[pos].lower(), "")) + word[pos + 1 :],
    ]
    return rng.choice([e for e in edits if e.lower() != word.lower()] or edits)


# -- Match patterns -----------------------------------------------------------------------


def _track_number(d: _Draw, t: Track) -> Tags:
    n = t.number if d.rng.random() < 0.5 else d.rng.randint(1, 14)
    side = d.rng.choice("AB") + str(d.rng.randint(1, 3))
    prefix = d.rng.choice((f"{n:02d}. ", f"{n:02d} - ", f"{n:02d} ", f"{side} ", f"{side}. "))
    return _clean(t, prefix.strip(), name=prefix + _full(t))


def _label_suffix(d: _Draw, t: Track) -> Tags:
    release = t.release
    suffix = d.rng.choice(
        (f"[{release.label.name}]", f"[{release.catalog_number}]", f"({release.label.name})")
    )
    return _clean(t, suffix[0] + "label" + suffix[-1], name=f"{_full(t)} {suffix}")


PROMO_TAGS: Final = ("[PROMO]", "(Promo Only)", "[FREE DOWNLOAD]", "(320 kbps)", "[Clean]")


def _promo_tag(d: _Draw, t: Track) -> Tags:
    tag = d.rng.choice(PROMO_TAGS)
    return _clean(t, tag, name=f"{_full(t)} {tag}")


def _remixer_in_artist(d: _Draw, t: Track) -> Tags | None:
    if not t.remixers:
        return None
    joiner = d.rng.choice((", ", " & "))
    credit = _credit(t.artists, joiner) + joiner + _remixers(t)
    return _clean(t, joiner.strip() or "space", artist=credit)


def _artist_in_name(d: _Draw, t: Track) -> Tags:
    joiner = d.rng.choice((" - ", " - ", " – ", "-"))
    name = f"{_credit(t.artists)}{joiner}{_full(t)}"
    return _clean(t, repr(joiner.strip()), name=name, artist="")


def _various_artists(d: _Draw, t: Track) -> Tags:
    placeholder = d.rng.choice(("Various Artists", "Various Artists", "VA", "Various"))
    name = f"{_credit(t.artists)} - {_full(t)}"
    return _clean(t, placeholder, name=name, artist=placeholder)


FEAT_WORDS: Final = ("feat.", "ft.", "featuring", "Feat.", "Ft.", "FEAT.")


def _featuring(d: _Draw, t: Track) -> Tags | None:
    if len(t.artists) < 2:
        return None
    main, guest = _credit(t.artists[:-1]), t.artists[-1].name
    word = d.rng.choice(FEAT_WORDS)
    where = d.rng.choice(("artist", "artist", "title", "title-bracket"))
    if where == "artist":
        return _clean(t, f"{word} in artist", artist=f"{main} {word} {guest}")
    if where == "title":
        return _clean(
            t, f"{word} in title", name=f"{t.name} {word} {guest} ({t.mix_name})", artist=main
        )
    name = f"{t.name} ({word} {guest}) ({t.mix_name})"
    return _clean(t, f"({word}) in title", name=name, artist=main)


ARTIST_JOINERS: Final = (" & ", " and ", " x ", " X ", " vs. ", " vs ", "; ", ";", "/", " / ")


def _artist_joiners(d: _Draw, t: Track) -> Tags | None:
    if len(t.artists) < 2:
        return None
    joiner = d.rng.choice(ARTIST_JOINERS)
    return _clean(t, repr(joiner), artist=_credit(t.artists, joiner))


def _artist_order(d: _Draw, t: Track) -> Tags | None:
    if len(t.artists) < 2:
        return None
    joiner = d.rng.choice((", ", " & "))
    return _clean(t, f"reversed{joiner.rstrip()}", artist=_credit(t.artists[::-1], joiner))


def _case(d: _Draw, t: Track) -> Tags:
    change = d.rng.choice((str.upper, str.lower))
    return _clean(t, change.__name__, name=change(_full(t)), artist=change(_credit(t.artists)))


def _accents(d: _Draw, t: Track) -> Tags | None:
    name, artist = _full(t), _credit(t.artists)
    if not _is_latin(name + artist):
        return None
    stripped = _strip_accents(name), _strip_accents(artist)
    if stripped != (name, artist):
        return _clean(t, "stripped", name=stripped[0], artist=stripped[1])
    # Added: tag editors and Discogs-style spellings put accents the store does not have.
    spots = [i for i, c in enumerate(artist) if c in _ACCENTED]
    if not spots:
        return None
    i = d.rng.choice(spots)
    return _clean(t, "added", artist=artist[:i] + _ACCENTED[artist[i]] + artist[i + 1 :])


def _typo_title(d: _Draw, t: Track) -> Tags | None:
    words = t.name.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not spots:
        return None
    i = d.rng.choice(spots)
    words[i] = _one_edit(d.rng, words[i])
    typo = " ".join(words)
    # A typo that spells another title of these artists would be another track.
    if fold(typo) == fold(t.name) or d.has_title(typo, t.artists[0].name):
        return None
    return _clean(t, "title", name=f"{typo} ({t.mix_name})")


def _typo_artist(d: _Draw, t: Track) -> Tags | None:
    # Only names of 8+ letters: "Droex" for "Drwex" would be another artist as easily.
    spots = [i for i, a in enumerate(t.artists) if len(a.name) >= 8 and _is_latin(a.name)]
    if not spots:
        return None
    i = d.rng.choice(spots)
    words = t.artists[i].name.split(" ")
    w = max(range(len(words)), key=lambda k: len(words[k]))
    if len(words[w]) < 4:
        return None
    words[w] = _one_edit(d.rng, words[w])
    names = [a.name for a in t.artists]
    names[i] = " ".join(words)
    if d.catalog.find_tracks(artist_name=names[i]):
        return None  # the typo spells another catalog artist
    return _clean(t, "artist", artist=", ".join(names))


def _truncated(d: _Draw, t: Track) -> Tags | None:
    full, artist = _full(t), _credit(t.artists)
    if len(full) <= ID3V1_LENGTH:
        return None
    cut = full[:ID3V1_LENGTH]
    # The cut must still tell this version from the title's others.
    others = [_full(v) for v in d.versions(t) if v.id != t.id]
    if any(fold(o).startswith(fold(cut).rstrip()) for o in others):
        return None
    if len(t.name) >= ID3V1_LENGTH - 4:
        return None  # the title itself cut: too little left to tell versions apart
    return _clean(
        t, "title" + (" and artist" if len(artist) > 30 else ""), name=cut, artist=artist[:30]
    )


EXTENDED_SPELLINGS: Final = (
    ("(Extended)", "name"),
    ("(Extended Version)", "name"),
    ("- Extended Mix", "name"),
    ("- Extended", "name"),
    ("[Extended Mix]", "name"),
    ("Extended", "mix"),
    ("Extended Version", "mix"),
)


def _extended(d: _Draw, t: Track) -> Tags | None:
    if t.mix_name != "Extended Mix":
        return None
    spelling, where = d.rng.choice(EXTENDED_SPELLINGS)
    if where == "mix":
        return _clean(t, f"Mix={spelling}", name=t.name, mix=spelling)
    return _clean(t, spelling, name=f"{t.name} {spelling}")


ORIGINAL_SPELLINGS: Final = (
    ("(Original)", "name"),
    ("(Original Version)", "name"),
    ("- Original Mix", "name"),
    ("[Original Mix]", "name"),
    ("(original mix)", "name"),
    ("Original", "mix"),
)


def _original(d: _Draw, t: Track) -> Tags | None:
    if t.mix_name != "Original Mix":
        return None
    spelling, where = d.rng.choice(ORIGINAL_SPELLINGS)
    if where == "mix":
        return _clean(t, f"Mix={spelling}", name=t.name, mix=spelling)
    return _clean(t, spelling, name=f"{t.name} {spelling}")


def _mix_missing(d: _Draw, t: Track) -> Tags | None:
    if t.mix_name == "Original Mix":
        return _clean(t, "original", name=t.name)
    # An extended mix tagged with no version at all is only that track if the title has no
    # original on the store.
    if t.mix_name == "Extended Mix" and all(v.mix_name != "Original Mix" for v in d.versions(t)):
        return _clean(t, "extended, no original on the store", name=t.name)
    return None


def _remixer_dash(d: _Draw, t: Track) -> Tags | None:
    if not t.remixers:
        return None
    dash = d.rng.choice((" - ", " - ", " – "))
    return _clean(t, repr(dash.strip()), name=f"{t.name}{dash}{t.mix_name}", remixer="")


def _spacing(d: _Draw, t: Track) -> Tags:
    full, artist = _full(t), _credit(t.artists)
    variant = d.rng.choice(("double", "padded", "underscores", "tight", "inner", "dots"))
    if variant == "double":
        return _clean(t, variant, name=full.replace(" ", "  "), artist=artist.replace(" ", "  "))
    if variant == "padded":
        return _clean(t, variant, name=f" {full} ", artist=f"{artist} ")
    if variant == "underscores":  # file-name imports: "Artist_-_Title_(Original_Mix)"
        return _clean(t, variant, name=full.replace(" ", "_"), artist=artist.replace(" ", "_"))
    if variant == "tight":
        return _clean(t, variant, name=f"{t.name}({t.mix_name})")
    if variant == "inner":
        return _clean(t, variant, name=f"{t.name} ( {t.mix_name} )")
    return _clean(t, variant, name=f"{t.name}... ({t.mix_name})")


def _mixed_in_key(d: _Draw, t: Track) -> Tags:
    camelot, energy = t.key.camelot, d.rng.randint(3, 8)
    shape = d.rng.choice(("key", "key-energy", "padded-key", "key-suffix", "key-bpm"))
    full = _full(t)
    names = {
        "key": f"{camelot} - {full}",
        "key-energy": f"{camelot} - {energy} - {full}",
        "padded-key": f"{int(camelot[:-1]):02d}{camelot[-1]} - {full}",
        "key-suffix": f"{full} - {camelot}",
        "key-bpm": f"{camelot} - {t.bpm} - {full}",
    }
    return _clean(t, shape, name=names[shape])


def _the_prefix(d: _Draw, t: Track) -> Tags | None:
    if len(t.artists) != 1 or fold(t.artists[0].name).startswith("the "):
        return None
    name = t.artists[0].name
    if " " not in name or not _is_latin(name):
        return None  # names of two words or more, the kind filed as "The ..."
    credit = d.rng.choice((f"The {name}", f"{name}, The"))
    return _clean(t, "prefix" if credit.startswith("The") else "sort suffix", artist=credit)


def _filename_stem(t: Track) -> str:
    return "_".join(f"{t.name} {t.mix_name}".replace("'", "").split())


def _beatport_file(d: _Draw, t: Track) -> Tags:
    # Beatport's WAVs came without tags, named "<track id>_<Title>_<Mix>": Rekordbox shows
    # the file name as the title and no artist.
    stem = f"{t.id}_{_filename_stem(t)}"
    return _clean(t, "wav", name=stem, artist="", remixer="", file_stem=stem, extension="wav")


COMMENT_NOTES: Final = ("", "", "peak time ", "Energy 7 - ", "*** ", "Bought 2021 ")


def _cratedigger_comment(d: _Draw, t: Track) -> Tags:
    tag = f"beatport:{t.id}" + (f" ISRC:{t.isrc}" if d.rng.random() < 0.7 else "")
    note = d.rng.choice(COMMENT_NOTES)
    change = d.rng.choice((str, str.lower))  # the tags may be as noisy as any others
    return _clean(t, "with note" if note else "bare", name=change(_full(t)), comments=note + tag)


URL_FORMS: Final = (
    "https://www.beatport.com/track/{slug}/{id}",
    "http://www.beatport.com/track/{slug}/{id}",
    "https://pro.beatport.com/track/{slug}/{id}",
    "www.beatport.com/track/{slug}/{id}",
    "Purchased at Beatport https://www.beatport.com/track/{slug}/{id}",
    "https://www.beatport.com/track/{slug}/{id}?ref=tagger",
)


def _beatport_url(d: _Draw, t: Track) -> Tags:
    form = d.rng.randrange(len(URL_FORMS))
    comment = URL_FORMS[form].format(slug=t.slug, id=t.id)
    return _clean(t, f"url form {form}", comments=comment)


def _wrong_id(d: _Draw, t: Track) -> Tags:
    # A comment copied from another track (or a typo in it): the id's track must be checked
    # against the tags, and the entry found by searching.
    while True:
        other = d.catalog.tracks[d.rng.randrange(d.catalog.size)]
        if fold(other.name) != fold(t.name):
            break
    form = d.rng.choice(("beatport:{id}", URL_FORMS[0]))
    return _clean(t, form.split(":")[0], comments=form.format(slug=other.slug, id=other.id))


# -- Near misses --------------------------------------------------------------------------


def _other_artist(d: _Draw, t: Track) -> Tags | None:
    # A real title under an artist who never recorded a track of that name, and whose name
    # is not a typo away from anyone who did.
    recorded = {a.name for s in d.catalog.find_tracks(name=t.name) for a in s.artists}
    artist = d.other_artist(sorted(recorded))
    if d.has_title(t.name, artist.name):
        return None
    return Tags(name=_full(t), artist=artist.name, variant="other artist")


NOT_ON_STORE: Final = ("Dub", "Dub Mix", "VIP", "VIP Mix", "Instrumental", "{r} Remix", "{r} Edit")


def _version_not_on_store(d: _Draw, t: Track) -> Tags | None:
    if t.mix_name != "Original Mix":
        return None
    template = d.rng.choice(NOT_ON_STORE)
    remixer = d.other_artist([a.name for a in t.artists])
    mix = template.format(r=remixer.name)
    mixes = {fold(v.mix_name) for v in d.versions(t)}
    if fold(mix) in mixes:
        return None
    # A remix by anyone of this title would be a near miss of a different kind; keep the
    # pattern to versions of the title that do not exist at all.
    if "{r}" in template and any(v.remixers for v in d.versions(t)):
        return None
    return _clean(t, template.replace("{r} ", "DJ "), name=f"{t.name} ({mix})", remixer="")


def _invented_title(d: _Draw, t: Track) -> Tags | None:
    artist = t.artists[0]
    own = [fold(s.name) for s in d.catalog.find_tracks(artist_name=artist.name)]
    for _ in range(20):
        name = compose_title(d.rng, d.words)
        if all(_distance(fold(name), o) >= 3 for o in own):
            return Tags(name=f"{name} (Original Mix)", artist=artist.name, variant="invented")
    return None


# fmt: off
PATTERNS: Final[tuple[Pattern, ...]] = (
    Pattern("track_number", "match",
            "a track or side number before the title, \"07. Title\", \"07 - Title\", \"A1 Title\":"
            " files from numbered album folders and vinyl rips named by position",
            _track_number),
    Pattern("label_suffix", "match",
            "the label or catalog number in brackets after the title, \"Title (Mix) [Label]\":"
            " label promos and promo pools",
            _label_suffix),
    Pattern("promo_tag", "match",
            "a promo pool's or ripper's note after the title, \"[PROMO]\", \"(320 kbps)\","
            " \"[Clean]\"",
            _promo_tag),
    Pattern("remixer_in_artist", "match",
            "the remixer credited in the Artist tag next to the original artists, as stores and"
            " taggers that list every credited artist write it",
            _remixer_in_artist),
    Pattern("artist_in_name", "match",
            "\"Artist - Title\" in the title and no artist: files without tags, named"
            " \"Artist - Title.mp3\"",
            _artist_in_name),
    Pattern("various_artists", "match",
            "Artist \"Various Artists\"/\"VA\" with the track artist in the title: compilation"
            " and mix-CD rips",
            _various_artists),
    Pattern("featuring", "match",
            "\"feat.\", \"ft.\", \"featuring\" (any case) for the last credited artist, in the"
            " Artist tag or in the title; Beatport lists featured artists as main artists",
            _featuring),
    Pattern("artist_joiners", "match",
            "artists joined by \"&\", \"and\", \"x\", \"vs.\", \";\" (OneTagger's default) or"
            " \"/\" (ID3v2.3 multi-value) instead of \",\"",
            _artist_joiners),
    Pattern("artist_order", "match", "the credited artists in another order", _artist_order),
    Pattern("case", "match", "title and artist in all capitals or all lower case", _case),
    Pattern("accents", "match",
            "accents stripped (ASCII-only tag editors, FAT file names) or added where the store"
            " has none",
            _accents),
    Pattern("typo_title", "match",
            "one letter of a title word dropped, swapped or replaced (hand-typed tags); never a"
            " typo that spells another title of the same artists",
            _typo_title),
    Pattern("typo_artist", "match",
            "one letter of an artist name of 8+ letters dropped, swapped or replaced",
            _typo_artist),
    Pattern("truncated", "match",
            "title and artist cut at 30 characters, as ID3v1 stores them (old rips, some car"
            " and CDJ exports): \"Sun Heart (Ivan Greco Extended\"",
            _truncated),
    Pattern("extended_spellings", "match",
            "\"(Extended)\", \"(Extended Version)\", \"- Extended Mix\", \"[Extended Mix]\" or"
            " Mix \"Extended\" for Beatport's \"Extended Mix\"",
            _extended),
    Pattern("original_spellings", "match",
            "\"(Original)\", \"(Original Version)\", \"- Original Mix\", \"[Original Mix]\" or Mix"
            " \"Original\" for \"Original Mix\"",
            _original),
    Pattern("mix_missing", "match",
            "no version in the tags at all (taggers that drop \"Original Mix\"); an extended"
            " mix only when its title has no original on the store",
            _mix_missing),
    Pattern("remixer_dash", "match",
            "\"Title - Remixer Remix\" without brackets and no Remixer tag (file-name imports)",
            _remixer_dash),
    Pattern("spacing_punctuation", "match",
            "doubled, padded or missing spaces, underscores for spaces (file names), spaces"
            " inside brackets, stray dots",
            _spacing),
    Pattern("mixed_in_key", "match",
            "Mixed In Key's key (and energy or BPM) written into the title: \"8A - Title\","
            " \"8A - 6 - Title\", \"Title - 8A\"",
            _mixed_in_key),
    Pattern("the_prefix", "match",
            "\"The\" added to an act's name, before it or as a sort suffix (\"Name, The\"), as"
            " Discogs and iTunes sort names",
            _the_prefix),
    Pattern("beatport_file_name", "match",
            "an untagged Beatport WAV: the title is the file name \"<track id>_<Title>_<Mix>\","
            " no artist",
            _beatport_file),
    Pattern("cratedigger_comment", "match",
            "cratedigger's own write-back, \"beatport:<id> ISRC:<isrc>\" in Comments (after the"
            " DJ's own notes)",
            _cratedigger_comment),
    Pattern("beatport_url_comment", "match",
            "a Beatport track URL in Comments, as other taggers and DJs paste it (www, pro.,"
            " http, no scheme, a query string)",
            _beatport_url),
    Pattern("wrong_known_id", "match",
            "a Beatport id or URL in Comments that belongs to another track (copied by"
            " mistake): it must be checked and the entry found by searching",
            _wrong_id),
    Pattern("title_by_other_artist", "near_miss",
            "a real Beatport title under an artist who never recorded a track of that name",
            _other_artist),
    Pattern("version_not_on_store", "near_miss",
            "a version the store does not have (a dub, VIP, instrumental, a DJ's edit or remix)"
            " of a title whose original it has",
            _version_not_on_store),
    Pattern("invented_title", "near_miss",
            "an invented title (the catalog's kind of words) by a real artist",
            _invented_title),
)
# fmt: on


def generate_corpus(catalog: Catalog, seed: int = 1) -> Corpus:
    """The corpus for `catalog`: every pattern's entries, shuffled into one playlist."""
    used: set[int] = set()
    entries: list[CorpusEntry] = []
    for pattern in PATTERNS:
        rng = random.Random(f"cratedigger-corpus:{seed}:{pattern.name}")
        draw = _Draw(rng, catalog)
        wanted = MATCH_ENTRIES if pattern.kind == "match" else NEAR_MISS_ENTRIES
        made = 0
        for _ in range(wanted * 400):
            track = catalog.tracks[rng.randrange(catalog.size)]
            if track.id in used:
                continue
            tags = pattern.make(draw, track)
            if tags is None:
                continue
            used.add(track.id)
            truth = track.id if pattern.kind == "match" else None
            entries.append(_entry(len(entries), pattern.name, truth, track, tags))
            made += 1
            if made == wanted:
                break
        else:
            raise RuntimeError(f"corpus pattern {pattern.name}: only {made} of {wanted} entries")
    order = random.Random(f"cratedigger-corpus:{seed}:order")
    order.shuffle(entries)
    return Corpus(seed, catalog.seed, catalog.size, tuple(entries))


def _entry(index: int, pattern: str, truth: int | None, track: Track, tags: Tags) -> CorpusEntry:
    stem = tags.file_stem or f"{tags.artist or 'Unknown Artist'} - {tags.name}".strip()
    stem = stem.replace("/", "-")
    year = int(track.release.date[:4])
    # A file's own name stays as it is; others get a number, as names may repeat.
    file = stem if tags.file_stem else f"{index:04d} {stem}"
    path = f"/Users/dj/Music/Corpus/{file}.{tags.extension}"
    location = "file://localhost" + quote(path, safe="/()[]!$&'+,;=@~")
    return CorpusEntry(
        track_id=FIRST_TRACK_ID + index,
        pattern=pattern,
        truth=truth,
        source=track.id,
        tags=tags,
        album=track.release.name,
        label=track.release.label.name,
        genre=track.genre.name,
        bpm=track.bpm,
        year=year,
        seconds=track.length_ms // 1000,
        location=location,
    )


def _attrs(pairs: Sequence[tuple[str, object]]) -> str:
    return " ".join(f'{k}="{escape(str(v), {chr(34): "&quot;"})}"' for k, v in pairs)


def render_corpus_xml(corpus: Corpus) -> str:
    """The corpus as a Rekordbox 6/7 XML library with one playlist, `Corpus/Noise`."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<DJ_PLAYLISTS Version="1.0.0">',
        '  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>',
        f'  <COLLECTION Entries="{len(corpus.entries)}">',
    ]
    for e in corpus.entries:
        t = e.tags
        attrs = (
            ("TrackID", e.track_id), ("Name", t.name), ("Artist", t.artist), ("Composer", ""),
            ("Album", e.album), ("Genre", e.genre), ("Kind", f"{t.extension.upper()} File"),
            ("TotalTime", e.seconds), ("Year", e.year), ("AverageBpm", f"{e.bpm:.2f}"),
            ("Comments", t.comments), ("Location", e.location), ("Remixer", t.remixer),
            ("Label", "" if t.extension == "wav" else e.label), ("Mix", t.mix),
        )  # fmt: skip
        lines.append(f"    <TRACK {_attrs(attrs)}/>")
    keys = [f'        <TRACK Key="{e.track_id}"/>' for e in corpus.entries]
    lines += [
        "  </COLLECTION>",
        "  <PLAYLISTS>",
        '    <NODE Type="0" Name="ROOT" Count="1">',
        f'      <NODE Type="0" Name="{CORPUS_FOLDER}" Count="1">',
        f'        <NODE Type="1" Name="{CORPUS_NAME}" KeyType="0" Entries="{len(keys)}">',
        *[f"  {k}" for k in keys],
        "        </NODE>",
        "      </NODE>",
        "    </NODE>",
        "  </PLAYLISTS>",
        "</DJ_PLAYLISTS>",
        "",
    ]
    return "\n".join(lines)


def corpus_truth(corpus: Corpus) -> dict[str, object]:
    """The truth file: Beatport id (or None) per TrackID, as the demo playlist's, plus each
    entry's pattern and every pattern's kind and description."""
    return {
        "seed": corpus.catalog_seed,
        "catalog_size": corpus.catalog_size,
        "corpus_seed": corpus.seed,
        "playlist": corpus.path,
        "tracks": {str(e.track_id): e.truth for e in corpus.entries},
        "patterns": {str(e.track_id): e.pattern for e in corpus.entries},
        "pattern_docs": {p.name: {"kind": p.kind, "doc": p.doc} for p in PATTERNS},
    }


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)


def write_corpus(
    *, seed: int = 1, catalog_seed: int = 1, catalog_size: int = 20000, out: Path, truth: Path
) -> Corpus:
    """Write the corpus library (`out`) and its truth file for the catalog the mock serves
    with `--seed catalog_seed --catalog-size catalog_size`."""
    corpus = generate_corpus(build_catalog(catalog_seed, catalog_size), seed)
    _write(out, render_corpus_xml(corpus))
    _write(truth, json.dumps(corpus_truth(corpus), indent=2, ensure_ascii=False) + "\n")
    return corpus
