"""Writing Beatport's metadata back into a copy of a Rekordbox library.

Only the start tags of matched collection tracks are rewritten, in place, in the source
bytes: everything else (other attributes, cue points, beat grids, playlists, formatting)
stays byte for byte what Rekordbox wrote, so the copy imports back cleanly.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cratedigger.errors import InputError
from cratedigger.models import MatchResult
from cratedigger.output import write_bytes_atomic
from cratedigger.rekordbox import parse_with_positions, read_library, safe_parser

__all__ = ["rekordbox_tonality", "write_back"]

_START_TAG = re.compile(
    rb"<TRACK(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?P<close>/?>)"
)
_ATTRIBUTE = re.compile(rb"(\s+)([^\s=/>]+)(\s*=\s*)(\"[^\"]*\"|'[^']*')")
_BEATPORT_TAG = re.compile(r"\s*beatport:\d+(?: ISRC:\S*)?")
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)

# Beatport's key names spell accidentals either way ("Ab Minor", "A♭ Minor").
_ACCIDENTALS = str.maketrans({"♯": "#", "♭": "b"})
_MODE_SUFFIX: Mapping[str, str] = {"minor": "m", "min": "m", "major": "", "maj": ""}
_CAMELOT: Mapping[str, str] = {
    "1A": "Abm",
    "1B": "B",
    "2A": "Ebm",
    "2B": "F#",
    "3A": "Bbm",
    "3B": "Db",
    "4A": "Fm",
    "4B": "Ab",
    "5A": "Cm",
    "5B": "Eb",
    "6A": "Gm",
    "6B": "Bb",
    "7A": "Dm",
    "7B": "F",
    "8A": "Am",
    "8B": "C",
    "9A": "Em",
    "9B": "G",
    "10A": "Bm",
    "10B": "D",
    "11A": "F#m",
    "11B": "A",
    "12A": "Dbm",
    "12B": "E",
}


def rekordbox_tonality(key: str | None, camelot: str | None = None) -> str | None:
    """Beatport's key ("Ab Minor") in Rekordbox's notation ("Abm"); Camelot as a fallback."""
    if key:
        tonic, _, mode = key.translate(_ACCIDENTALS).strip().partition(" ")
        suffix = _MODE_SUFFIX.get(mode.strip().lower())
        if suffix is not None and re.fullmatch(r"[A-G][#b]?", tonic):
            return tonic + suffix
    if camelot:
        return _CAMELOT.get(camelot.strip().upper())
    return None


def _bpm(result: MatchResult, _old: str | None) -> str | None:
    return f"{result.bpm:.2f}" if result.bpm else None


def _tonality(result: MatchResult, _old: str | None) -> str | None:
    return rekordbox_tonality(result.key, result.camelot)


def _year(result: MatchResult, _old: str | None) -> str | None:
    date = result.release_date or ""
    return date[:4] if re.match(r"\d{4}", date) else None


def _comments(result: MatchResult, old: str | None) -> str | None:
    # The DJ's own notes stay; a tag from an earlier write-back is replaced, not repeated.
    if result.beatport_id is None:
        return None
    tag = f"beatport:{result.beatport_id}"
    if result.isrc:
        tag += f" ISRC:{result.isrc}"
    kept = _BEATPORT_TAG.sub("", old or "").strip()
    return f"{kept} {tag}" if kept else tag


@dataclass(frozen=True, slots=True)
class _Rule:
    attribute: str
    value: Callable[[MatchResult, str | None], str | None]  # None leaves the attribute as is


_RULES: tuple[_Rule, ...] = (
    _Rule("AverageBpm", _bpm),
    _Rule("Tonality", _tonality),
    _Rule("Genre", lambda result, _old: result.genre),
    _Rule("Label", lambda result, _old: result.label),
    _Rule("Year", _year),
    _Rule("Comments", _comments),
)


def _rewrite_tag(tag: re.Match[bytes], attrs: Mapping[str, str], result: MatchResult) -> bytes:
    changes = {rule.attribute: rule.value(result, attrs.get(rule.attribute)) for rule in _RULES}
    out = io.BytesIO()
    out.write(b"<TRACK")
    for spacing, name, equals, raw in _ATTRIBUTE.findall(tag["attrs"]):
        new = changes.pop(name.decode("utf-8"), None)
        out.write(spacing + name + equals + (_quoted(new) if new is not None else raw))
    for name, new in changes.items():
        if new is not None:
            out.write(b" " + name.encode("ascii") + b"=" + _quoted(new))
    out.write(tag["close"])
    return out.getvalue()


def _quoted(value: str) -> bytes:
    return b'"' + value.translate(_ESCAPES).encode("utf-8") + b'"'


def _track_tags(data: bytes, display: str, wanted: Mapping[str, MatchResult]) -> list[bytes]:
    """Split `data` around the start tags of the wanted collection tracks, rewriting those."""
    parser = safe_parser(display)
    stack: list[str] = []
    found: list[tuple[int, dict[str, str]]] = []
    encoding: list[str] = []

    def declaration(_version: str, declared: str | None, _standalone: int) -> None:
        encoding.append((declared or "utf-8").lower())

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "TRACK" and stack[-1:] == ["COLLECTION"] and attrs.get("TrackID") in wanted:
            found.append((parser.CurrentByteIndex, attrs))
        stack.append(name)

    parser.XmlDeclHandler = declaration
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda _name: stack.pop()
    parse_with_positions(parser, io.BytesIO(data), display)
    if encoding and encoding[0].replace("-", "") not in ("utf8", "ascii", "usascii"):
        raise InputError(
            f"only UTF-8 libraries can be written back, not {encoding[0]}", path=display
        )

    pieces: list[bytes] = []
    done = 0
    for offset, attrs in found:
        tag = _START_TAG.match(data, offset)
        if tag is None:  # expat accepted it, so this is a parser/regex disagreement
            raise InputError(f"cannot rewrite TRACK {attrs['TrackID']!r}", path=display)
        pieces += [data[done:offset], _rewrite_tag(tag, attrs, wanted[attrs["TrackID"]])]
        done = tag.end()
    pieces.append(data[done:])
    return pieces


_DECLARATION = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def check_writable(source: Path) -> None:
    """Refuse up front a library that write_back could not copy (it must be UTF-8)."""
    try:
        with source.open("rb") as stream:
            head = stream.read(1024)
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=str(source)) from None
    declared = _DECLARATION.search(head)
    encoding = declared[1].decode("ascii").lower() if declared else "utf-8"
    if encoding.replace("-", "") not in ("utf8", "ascii", "usascii"):
        raise InputError(
            f"--xml-out: only UTF-8 libraries can be written back, not {encoding}",
            path=str(source),
        )


def write_back(source: Path, results: Iterable[MatchResult], dest: Path) -> None:
    """Write a copy of `source` whose matched tracks carry Beatport's metadata (atomically)."""
    library = read_library(source)
    wanted: dict[str, MatchResult] = {}
    for result in results:
        if result.status != "matched":
            continue  # only matches are written back (a stale entry has no track to tag)
        if result.rekordbox_id not in library.tracks:
            raise InputError(
                f"a result refers to TrackID {result.rekordbox_id!r}, which the library lacks",
                path=str(source),
            )
        wanted[result.rekordbox_id] = result
    data = source.read_bytes()
    write_bytes_atomic(dest, b"".join(_track_tags(data, str(source), wanted)))
