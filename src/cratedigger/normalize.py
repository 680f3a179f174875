"""Text normalisation for matching: fold text, split artist credits and titles into parts.

Both sides of a comparison (the DJ's local track and a Beatport candidate) go through the
same functions, so a splitting choice (say "Above & Beyond" -> "above", "beyond") is made
identically on both sides and cannot by itself make two equal credits differ.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from cratedigger.models import Candidate, LocalTrack

ORIGINAL_MIX = "original mix"

# Letters that NFKD leaves alone (they are not "base letter + accent") but a DJ's library
# often spells without: "Røyksopp" is filed as "Royksopp". Applied after casefold.
_LETTER_MAP = str.maketrans(
    {
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŋ": "n",
        "ſ": "s",
    }
)

# Raw-text unification before any splitting: the splitters only know ASCII quotes/dashes.
_UNIFY = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛ʼ´`′", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−", "-"),
    }
)

_APOSTROPHES = "'‘’‛ʼ´`"


def _punctuation_table() -> dict[int, str | None]:
    """Every punctuation, symbol or odd space in the ranges where text uses them -> space.

    Apostrophes are deleted instead, so "Noisia's" folds to "noisias" on both sides.
    """
    ranges = ((0x00, 0x2FF), (0x2000, 0x2BFF), (0x3000, 0x303F), (0x30FB, 0x30FB), (0xFE30, 0xFE6F))
    table: dict[int, str | None] = {}
    for low, high in ranges:
        for code in range(low, high + 1):
            category = unicodedata.category(chr(code))
            if category[0] in "PSZ" or category == "Cc":
                table[code] = " "
    for char in _APOSTROPHES:
        table[ord(char)] = None
    return table


_PUNCTUATION = _punctuation_table()

# Words that make a bracketed or dash-separated part of a title a version, not the name.
VERSION_WORDS = frozenset(
    (
        *("mix", "remix", "rmx", "edit", "dub", "vip", "rework", "bootleg", "version"),
        *("extended", "radio", "instrumental", "live", "acapella", "acappella", "refix"),
        *("flip", "remaster", "remastered", "reprise", "club", "original", "reedit"),
        *("remode", "reinterpretation"),
    )
)
# Version words after which the preceding words name who made the version ("X Remix").
_CREDIT_WORDS = frozenset(
    ("remix", "rmx", "rework", "bootleg", "refix", "flip", "edit", "mix", "dub", "vip", "reedit")
)
# Words that describe a version without naming anyone; never part of a remixer's name.
_DESCRIPTOR_WORDS = VERSION_WORDS | {"vocal", "main", "short", "long", "the", "full"}
_MIX_ALIASES = {
    "": ORIGINAL_MIX,
    "original": ORIGINAL_MIX,
    "original version": ORIGINAL_MIX,
    "extended": "extended mix",
    "extended version": "extended mix",
}

# Artist tags that name nobody: compilation rips put the track artist in the title instead.
PLACEHOLDER_ARTISTS = frozenset(
    ("various artists", "various", "va", "v a", "unknown artist", "unknown", "artist")
)

# Decorations libraries put around a title that are no part of it, tried in this order; each
# is cut off the title, which stays an alternative reading (a title may start with a number).
TITLE_DECORATIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Beatport's downloads are named "<track id>_<Title>_<Mix>"; untagged, that is the title.
    ("beatport file name", re.compile(r"^\d{5,9}_(?=\S)")),
    # Mixed In Key writes the key, then the energy or BPM, before the title: "8A - 6 - Title".
    ("key prefix", re.compile(r"^\s*0?(?:1[0-2]|[1-9])[AB]\s+-\s+(?:\d{1,3}\s+-\s+)?", re.I)),
    ("key suffix", re.compile(r"\s+-\s+0?(?:1[0-2]|[1-9])[AB]\s*$", re.I)),
    # Album and vinyl rips named by position: "07. Title", "07 - Title", "A1 Title".
    ("track number", re.compile(r"^\s*(?:\d{1,3}|[A-H]\d{1,2})(?:\s*[.)]\s*|\s+-\s+|\s+)(?=\S)")),
)
# A name at the ID3v1 limit may have been cut there: its last word and version are partial.
ID3V1_LENGTH = 30

_FEAT = r"(?:feat|ft|featuring)\b\.?"
_FEAT_SPLIT = re.compile(rf"\s*[(\[]?\s*\b{_FEAT}\s*", re.IGNORECASE)
_FEAT_PREFIX = re.compile(rf"^\s*{_FEAT}\s*", re.IGNORECASE)
_FEAT_INLINE = re.compile(rf"\s+{_FEAT}\s+(.+)$", re.IGNORECASE)
# Separators between credited artists; the word ones need spaces so "X-Press 2" survives.
_ARTIST_SEP = re.compile(r"\s*(?:[,&;]|\s\+\s|\s/\s)\s*|\s+(?:and|x|vs\.?|versus)\s+", re.I)
# The same without "&", which also joins the two halves of one act's name ("Chase & Status").
_ACT_SEP = re.compile(r"\s*(?:[,;]|\s\+\s|\s/\s)\s*|\s+(?:x|vs\.?|versus)\s+", re.I)
_BRACKETED = re.compile(r"\s*[(\[{]([^()\[\]{}]*)[)\]}]")
_DASH_SUFFIX = re.compile(r"\s+-\s+([^-]+)$")
_ARTIST_TITLE = re.compile(r"^(.+?)\s+-\s+(.+)$")
# "Artist-Title" (file names): no bracket or dash before the first dash.
_ARTIST_TITLE_TIGHT = re.compile(r"^([^()\[\]\-]+?)\s*-\s*([^\s-].*)$")
_SORT_THE = re.compile(r",\s*the\s*$", re.IGNORECASE)  # "Chemical Brothers, The"
_POSSESSIVE = re.compile(r"^(.+?)'s\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Normalized:
    """A track reduced to folded parts: what scoring and query building compare."""

    name: str
    mix: str  # "original mix" when the track names no version
    artists: tuple[str, ...]
    remixers: tuple[str, ...]
    featured: tuple[str, ...] = ()
    lead: str = ""  # the first credited act with any "&" kept: "above beyond", not "above"
    # Other readings of the name that drop text the tags hold (a bracketed label, a track
    # number): scoring tries them at a small cost, so the full reading wins a tie.
    alt_names: tuple[str, ...] = ()
    # The title was cut at the ID3v1 limit: the name may be a prefix of the real one, and
    # `cut_mix` (folded) a prefix of the real version's name ("" when the cut left none).
    cut: bool = False
    cut_mix: str | None = None


@dataclass(frozen=True, slots=True)
class TitleParts:
    """A raw title split into its name, the version parts it carries, and featured artists."""

    name: str  # folded
    versions: tuple[str, ...]  # raw (unified) text of each version part, in title order
    featured: tuple[str, ...]  # folded
    shorter: tuple[str, ...] = ()  # the name without its trailing non-version brackets
    cut_version: str | None = None  # raw text of an unclosed last bracket ("(Extended M")


@lru_cache(maxsize=1 << 13)
def fold(text: str) -> str:
    """Casefold, drop Latin accents, turn punctuation into spaces and collapse whitespace.

    Marks on non-Latin letters are kept: in Cyrillic or Japanese they spell the letter.
    """
    folded = text.casefold()
    if not folded.isascii():
        folded = _strip_latin_marks(folded).translate(_LETTER_MAP)
    return " ".join(folded.translate(_PUNCTUATION).split())


def _strip_latin_marks(text: str) -> str:
    kept: list[str] = []
    base_is_latin = True
    # Compatibility forms can decompose to capitals ("ꟸ" -> "Ħ"): casefold again.
    for char in unicodedata.normalize("NFKD", text).casefold():
        if unicodedata.combining(char):
            if not base_is_latin:
                kept.append(char)
            continue
        kept.append(char)
        base_is_latin = char <= "\u024f"
    return unicodedata.normalize("NFC", "".join(kept))


def unify(text: str) -> str:
    """Fold compatibility forms, quotes and dashes to ASCII; leave everything else as is."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_UNIFY)


def _dedupe(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


@lru_cache(maxsize=1 << 12)
def split_artists(credit: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split an artist credit into (main artists, featured artists), each folded."""
    parts = _FEAT_SPLIT.split(_SORT_THE.sub("", unify(credit)), maxsplit=1)
    main = [_artist(name) for name in _ARTIST_SEP.split(parts[0])]
    featured = [_artist(name) for name in _ARTIST_SEP.split(parts[1])] if len(parts) > 1 else []
    return _dedupe(main), _dedupe(featured)


def _artist(name: str) -> str:
    folded = fold(name)
    # "The Chemical Brothers" is filed as "Chemical Brothers" as often as not.
    if folded == "the":
        return ""
    return folded[4:] if folded.startswith("the ") else folded


# Cached, as fold and split_title are: the same credits and mix names ("Extended Mix", an
# artist in every answer of their tracks) recur across candidates; bounded, so a long run
# does not grow. Cut the pure core's CPU per request by 8-10 % (see the commit).
@lru_cache(maxsize=1 << 12)
def lead_act(credit: str) -> str:
    """The first act of a credit, folded, without splitting on "&"."""
    acts = _ACT_SEP.split(_FEAT_SPLIT.split(_SORT_THE.sub("", unify(credit)), maxsplit=1)[0])
    return next((folded for act in acts if (folded := fold(act))), "")


def _is_version(text: str) -> bool:
    return not VERSION_WORDS.isdisjoint(fold(text.replace("-", "")).split())


@lru_cache(maxsize=1 << 12)
def split_title(title: str) -> TitleParts:
    """Take versions ("(X Remix)", "[Extended Mix]", "- Radio Edit") and "feat." out of a title."""
    rest = unify(title)
    cut_version = None
    opened = max(rest.rfind("("), rest.rfind("["))
    if opened > max(rest.rfind(")"), rest.rfind("]")):
        # An unclosed last bracket: the title was cut inside its version.
        cut_version, rest = rest[opened + 1 :].strip(), rest[:opened]
    versions: list[str] = []
    featured: list[str] = []
    kept: list[str] = []
    notes: list[int] = []  # where in `kept` non-version brackets are
    position = 0
    for bracket in _BRACKETED.finditer(rest):
        kept.append(rest[position : bracket.start()])
        position = bracket.end()
        inner = bracket.group(1).strip()
        if _FEAT_PREFIX.match(inner):
            featured.extend(_all_artists(_FEAT_PREFIX.sub("", inner)))
        elif _is_version(inner):
            versions.append(inner)
        else:
            notes.append(len(kept))
            kept.append(f" {inner} ")
    kept.append(rest[position:])
    rest, tail_versions, tail_featured = _strip_tail("".join(kept).strip())
    shorter: list[str] = []
    if notes and kept[0].strip():
        # Brackets after the start that are no version ("[Label]", "[PROMO]", "(Heart)"):
        # readings without the last one, then without any.
        for drop in (notes[-1:], notes) if len(notes) > 1 else (notes,):
            text = "".join(k for i, k in enumerate(kept) if i not in drop).strip()
            shorter.append(_title_name(_strip_tail(text)[0]))
    return TitleParts(
        _title_name(rest),
        (*versions, *tail_versions),
        _dedupe([*featured, *tail_featured]),
        _dedupe(shorter),
        cut_version,
    )


def _strip_tail(rest: str) -> tuple[str, list[str], list[str]]:
    """A " - Radio Edit" version suffix and an inline "feat. X" taken off a title's end."""
    versions: list[str] = []
    featured: list[str] = []
    dash = _DASH_SUFFIX.search(rest)
    if dash and _is_version(dash.group(1)):
        versions.append(dash.group(1).strip())
        rest = rest[: dash.start()]
    inline = _FEAT_INLINE.search(rest)
    if inline:
        featured.extend(_all_artists(inline.group(1)))
        rest = rest[: inline.start()]
    return rest, versions, featured


def _title_name(text: str) -> str:
    # "Love & Hate" and "Love and Hate" are one title.
    return fold(text.replace("&", " and "))


def _all_artists(credit: str) -> list[str]:
    main, featured = split_artists(credit)
    return [*main, *featured]


@lru_cache(maxsize=1 << 12)
def canonical_mix(text: str) -> str:
    """The folded mix name, with the spellings of "no particular version" made one."""
    folded = fold(text)
    return _MIX_ALIASES.get(folded, folded)


@lru_cache(maxsize=1 << 12)
def remixers_from_mix(mix: str) -> tuple[str, ...]:
    """Who a version credits: "Layton Giordani Extended Remix" -> ("layton giordani",)."""
    words = fold(mix.replace("-", "")).split()
    if _CREDIT_WORDS.isdisjoint(words):
        return ()
    possessive = _POSSESSIVE.match(unify(mix).strip())
    if possessive:
        return _dedupe(_all_artists(possessive.group(1)))
    credited = " ".join(w for w in mix.split() if not _is_descriptor(w))
    return _dedupe(_all_artists(credited))


@lru_cache(maxsize=1 << 12)
def _is_descriptor(word: str) -> bool:
    folded = fold(word.replace("-", ""))
    return folded.isdigit() or folded in _DESCRIPTOR_WORDS


def _combine(mix: str, title: TitleParts) -> tuple[str, str]:
    """(canonical mix, raw mix text) from a mix field and the versions found in the title.

    A specific mix field wins; a title version only fills in for an empty or "Original Mix"
    field (Beatport's website names some tracks "Name (X Remix)" with mix "Original Mix").
    """
    field = canonical_mix(mix)
    extra = [v for v in title.versions if canonical_mix(v) not in (field, ORIGINAL_MIX)]
    if field == ORIGINAL_MIX and extra:
        raw = " ".join(extra)
    elif extra:
        raw = " ".join([*extra, mix])
    else:
        raw = mix
    return canonical_mix(raw), raw


def normalize_local(track: LocalTrack) -> Normalized:
    """Normalise a Rekordbox track (Name, Artist, Mix, Remixer)."""
    name, decorated = _undecorate(track.name)
    name, artist = _spaced(name), _spaced(track.artist)
    if fold(artist) in PLACEHOLDER_ARTISTS:
        artist = ""
    if not artist.strip():
        # Libraries imported from bare files often carry "Artist - Title" in the name.
        text = unify(name)
        pair = _ARTIST_TITLE.match(text) or _ARTIST_TITLE_TIGHT.match(text)
        rest = split_title(pair.group(2)).name if pair else ""
        if pair and rest and not _is_version(rest):
            artist, name = pair.group(1), pair.group(2)
    title = split_title(name)
    main, featured = split_artists(artist)
    remixers = tuple(_all_artists(track.remixer)) if track.remixer.strip() else ()
    cut_mix = None
    if title.cut_version is not None:
        cut_mix = fold(title.cut_version)
        if cut_mix:
            title = replace(title, versions=(*title.versions, title.cut_version))
    elif len(track.name) == ID3V1_LENGTH and not title.versions and not track.mix.strip():
        cut_mix = ""  # cut before any version: which one is unknown
    mix, raw_mix = _combine(track.mix, title)
    if mix == ORIGINAL_MIX and remixers:
        mix = f"{' '.join(remixers)} remix"
    elif not remixers:
        remixers = remixers_from_mix(raw_mix)
    if remixers and len(main) > 1:
        # Taggers that credit everyone list the remixer among the artists.
        main = tuple(a for a in main if a not in remixers) or main
    alt_names = [*title.shorter]
    if decorated:
        alt_names.append(split_title(decorated).name)
    return Normalized(
        name=title.name,
        mix=mix,
        artists=main,
        remixers=_dedupe(list(remixers)),
        featured=_dedupe([*featured, *title.featured]),
        lead=lead_act(artist),
        alt_names=tuple(n for n in _dedupe(alt_names) if n != title.name),
        cut=cut_mix is not None,
        cut_mix=cut_mix,
    )


def _spaced(text: str) -> str:
    """A file name's "Artist_-_Title_(Original_Mix)" with spaces, other text as it is; a
    version the file name left without brackets ("Title_Extended_Mix") gets them back."""
    if "_" not in text or " " in text.strip():
        return text
    words = text.replace("_", " ").split()
    start = len(words)
    while start > 1 and fold(words[start - 1]) in _DESCRIPTOR_WORDS:
        start -= 1
    bare = [fold(w) for w in words[start:]]
    if "(" in text or not bare or VERSION_WORDS.isdisjoint(bare) or bare[-1] == "the":
        return " ".join(words)
    return f"{' '.join(words[:start])} ({' '.join(words[start:])})"


def _undecorate(name: str) -> tuple[str, str]:
    """The title without the decorations of TITLE_DECORATIONS, and the title as it was if
    any was cut off ("" if none was)."""
    rest = name
    for _, pattern in TITLE_DECORATIONS:
        cut = pattern.sub("", rest, count=1)
        if cut.strip():
            rest = cut
    return (rest, name) if rest != name else (name, "")


def normalize_candidate(candidate: Candidate) -> Normalized:
    """Normalise a Beatport candidate (scoring caches the result per candidate)."""
    title = split_title(candidate.name)
    main: list[str] = []
    featured: list[str] = []
    for credit in candidate.artists:
        credit_main, credit_featured = split_artists(credit)
        main.extend(credit_main)
        featured.extend(credit_featured)
    mix, raw_mix = _combine(candidate.mix_name, title)
    remixers = [name for credit in candidate.remixers for name in _all_artists(credit)]
    return Normalized(
        name=title.name,
        mix=mix,
        artists=_dedupe(main),
        remixers=_dedupe(remixers) or remixers_from_mix(raw_mix),
        featured=_dedupe([*featured, *title.featured]),
        lead=lead_act(candidate.artists[0]) if candidate.artists else "",
    )
