"""Reading a Rekordbox 6/7 XML library: the collection's tracks and the playlist tree.

The reader drives expat directly: it is the fastest parser in the standard library, and it
reports the line of every element, which every error message names.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO
from urllib.parse import unquote
from xml.parsers import expat

from cratedigger.errors import InputError
from cratedigger.models import LocalTrack

__all__ = [
    "Library",
    "Playlist",
    "PlaylistInfo",
    "location_key",
    "parse_with_positions",
    "read_library",
    "safe_parser",
]

FOLDER, PLAYLIST = "0", "1"
BY_TRACK_ID, BY_LOCATION = "0", "1"
_CHUNK = 1 << 16

# LocalTrack field <- TRACK attribute, copied as text.
_TEXT_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("artist", "Artist"),
    ("album", "Album"),
    ("genre", "Genre"),
    ("label", "Label"),
    ("mix", "Mix"),
    ("remixer", "Remixer"),
    ("tonality", "Tonality"),
    ("location", "Location"),
    ("comments", "Comments"),
)


def _to_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _to_int(text: str) -> int:
    # Some tools write "285.0" where Rekordbox writes "285"; both mean the same.
    value = _to_float(text)
    if not value.is_integer():
        raise ValueError(text)
    return int(value)


# LocalTrack field <- TRACK attribute, converted; Rekordbox writes 0 for "not analysed/unknown".
_NUMBER_ATTRIBUTES: tuple[tuple[str, str, Callable[[str], float | int], str], ...] = (
    ("bpm", "AverageBpm", _to_float, "a number"),
    ("year", "Year", _to_int, "a whole number"),
    ("total_time", "TotalTime", _to_int, "a whole number of seconds"),
)


@dataclass(frozen=True, slots=True)
class PlaylistInfo:
    """One playlist of the tree, for listings."""

    path: str
    name: str
    entries: int


@dataclass(frozen=True, slots=True)
class Playlist:
    """A playlist with its entries resolved to tracks, in playlist order."""

    path: str
    name: str
    entries: list[LocalTrack]
    # One line per stale entry (it points to no track of the collection), naming file and
    # line; such an entry is kept, as a LocalTrack with in_collection False.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    line: int


@dataclass(slots=True)
class _Node:
    path: str
    name: str
    is_folder: bool
    by_location: bool
    entries: list[_Entry] = field(default_factory=list)


def file_stem(location: str) -> str:
    """The file name without its folder and extension, from a Location of any form
    (`file://localhost/C:/Music/Artist%20-%20Title.mp3` gives "Artist - Title")."""
    name = unquote(location).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    return stem if dot and stem and len(extension) <= 5 else name


def location_key(location: str) -> str:
    """The comparable form of a Location URL or a KeyType="1" key, however it is written.

    `file://localhost/` with one slash or two (pyrekordbox writes two), `file:///`, or a
    plain path; percent-encoded (URLs are decoded) or not; NFC or NFD (macOS stores
    decomposed names, other tools write composed ones); Windows drive letters in either case,
    with slashes or backslashes. The result is a path with one leading "/":
    "/Users/dj/a.mp3", "/C:/Music/a.mp3".
    """
    path = location.strip()
    if path[:5].lower() == "file:":
        path = unquote(path[5:])
        if path.startswith("//"):  # an authority: "localhost", none, or a drive ("C:")
            host, _, rest = path[2:].partition("/")
            path = f"/{rest}" if host.lower() in ("", "localhost") else path[2:]
    path = "/" + path.replace("\\", "/").lstrip("/")
    if _DRIVE.match(path):
        path = f"/{path[1].upper()}{path[2:]}"
    return unicodedata.normalize("NFC", path)


_DRIVE = re.compile(r"^/[a-zA-Z]:(?:/|$)")


def safe_parser(display: str) -> expat.XMLParserType:
    """An expat parser that refuses DOCTYPE, and so every entity-expansion attack."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse_doctype(*_: object) -> None:
        raise InputError(
            "DOCTYPE declarations are not allowed in a Rekordbox library",
            path=display,
            line=parser.CurrentLineNumber,
        )

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    return parser


def parse_with_positions(parser: expat.XMLParserType, stream: BinaryIO, display: str) -> None:
    """Feed `stream` to `parser`, turning expat's errors into InputError with line and column
    (and an empty file, where expat would say "no element found", into one saying so)."""
    blank = True
    try:
        while chunk := stream.read(_CHUNK):
            blank = blank and not chunk.strip()
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        if blank:
            raise InputError(
                "the file is empty: export the collection from Rekordbox again", path=display
            ) from None
        message = expat.ErrorString(exc.code)
        raise InputError(
            f"malformed XML at column {exc.offset + 1}: {message}", path=display, line=exc.lineno
        ) from None


class Library:
    """A parsed Rekordbox library: tracks by TrackID and the playlist tree."""

    def __init__(self, path: Path, tracks: dict[str, LocalTrack], nodes: list[_Node]) -> None:
        self.path = path
        self.tracks: Mapping[str, LocalTrack] = MappingProxyType(tracks)
        self._nodes = nodes
        self._by_location: dict[str, LocalTrack] | None = None

    def playlists(self) -> list[PlaylistInfo]:
        """Every playlist (not folder), in tree order."""
        return [
            PlaylistInfo(node.path, node.name, len(node.entries))
            for node in self._nodes
            if not node.is_folder
        ]

    def playlist(self, name_or_path: str) -> Playlist:
        """A playlist by folder path ("Sets/2024/Warmup") or by its name if that is unique.

        An entry that points to no track of the collection is kept as a stale entry (a
        LocalTrack with in_collection False, keyed by the entry's key) with a warning.
        """
        node = self._find(name_or_path)
        entries: list[LocalTrack] = []
        warnings: list[str] = []
        for number, entry in enumerate(node.entries, 1):
            track = self._resolve(node, entry)
            if track is None:
                kind = "Location" if node.by_location else "TrackID"
                warnings.append(
                    f"{self._display}:{entry.line}: entry {number} of playlist {node.path!r} "
                    f"points to no track in the collection: {kind} {entry.key!r}"
                )
                location = entry.key if node.by_location else ""
                track = LocalTrack(entry.key, "", "", location=location, in_collection=False)
            entries.append(track)
        return Playlist(node.path, node.name, entries, tuple(warnings))

    def _find(self, wanted: str) -> _Node:
        by_path = [node for node in self._nodes if node.path == wanted]
        candidates = by_path or [node for node in self._nodes if node.name == wanted]
        playlists = [node for node in candidates if not node.is_folder]
        if len(playlists) == 1:
            return playlists[0]
        if len(playlists) > 1:
            paths = ", ".join(node.path for node in playlists)
            raise InputError(
                f"playlist name {wanted!r} is ambiguous; use one of: {paths}", path=self._display
            )
        if candidates:
            raise InputError(f"{wanted!r} is a folder, not a playlist", path=self._display)
        # A playlist answers to its name and to its folder path; suggest from both.
        known = sorted(
            {n for node in self._nodes if not node.is_folder for n in (node.name, node.path)}
        )
        closest = difflib.get_close_matches(wanted, known, n=3, cutoff=0.0)
        hint = f"; closest: {', '.join(closest)}" if closest else "; the library has no playlists"
        raise InputError(f"unknown playlist {wanted!r}{hint}", path=self._display)

    def _resolve(self, node: _Node, entry: _Entry) -> LocalTrack | None:
        if not node.by_location:
            return self.tracks.get(entry.key)
        index = self._location_index()
        track = index.get(location_key(entry.key))
        if track is None and "%" in entry.key and entry.key[:5].lower() != "file:":
            track = index.get(location_key(unquote(entry.key)))  # a percent-encoded plain path
        return track

    def _location_index(self) -> dict[str, LocalTrack]:
        # Built on first use: most libraries only reference tracks by TrackID.
        if self._by_location is None:
            self._by_location = {
                location_key(track.location): track
                for track in self.tracks.values()
                if track.location
            }
        return self._by_location

    @property
    def _display(self) -> str:
        return str(self.path)


class _Reader:
    """expat callbacks that collect tracks and nodes, remembering each element's line."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.parser = safe_parser(display)
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.stack: list[str] = []
        self.node_stack: list[_Node | None] = []
        self.tracks: dict[str, LocalTrack] = {}
        self.nodes: list[_Node] = []
        self.seen: set[str] = set()
        self.root_line = 1

    def fail(self, message: str) -> InputError:
        return InputError(message, path=self.display, line=self.parser.CurrentLineNumber)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        parent = self.stack[-1] if self.stack else None
        self.stack.append(name)
        if parent is None and name != "DJ_PLAYLISTS":
            raise self.fail(
                f"not a Rekordbox library: root element is <{name}>, not <DJ_PLAYLISTS>"
            )
        if parent is None:
            self.root_line = self.parser.CurrentLineNumber
        if parent == "DJ_PLAYLISTS":
            self.seen.add(name)
        if name == "TRACK" and parent == "COLLECTION":
            self.add_track(attrs)
        elif name == "NODE" and parent in ("PLAYLISTS", "NODE"):
            self.open_node(attrs, top=parent == "PLAYLISTS")
        elif name == "TRACK" and parent == "NODE":
            self.add_entry(attrs)

    def end(self, name: str) -> None:
        self.stack.pop()
        if name == "NODE" and self.node_stack:
            self.node_stack.pop()

    def add_track(self, attrs: dict[str, str]) -> None:
        track_id = attrs.get("TrackID", "")
        if not track_id:
            raise self.fail("TRACK without a TrackID")
        if track_id in self.tracks:
            raise self.fail(f"duplicate TrackID {track_id!r}")
        values: dict[str, object] = {f: attrs.get(a, "") for f, a in _TEXT_ATTRIBUTES}
        for fname, attr, convert, expected in _NUMBER_ATTRIBUTES:
            text = attrs.get(attr, "").strip()
            if not text:
                continue
            try:
                number = convert(text)
            except ValueError:
                raise self.fail(
                    f"TRACK {track_id}: {attr}: expected {expected}, got {text!r}"
                ) from None
            values[fname] = number or None
        if not str(values["name"]).strip() and not str(values["artist"]).strip():
            # Rekordbox shows the file's name for a file without tags: search with it too.
            values["name"] = file_stem(str(values["location"]))
        self.tracks[track_id] = LocalTrack(track_id=track_id, **values)  # type: ignore[arg-type]

    def open_node(self, attrs: dict[str, str], *, top: bool) -> None:
        kind = attrs.get("Type", FOLDER)
        if kind not in (FOLDER, PLAYLIST):
            raise self.fail(f"NODE Type must be 0 (folder) or 1 (playlist), got {kind!r}")
        name = attrs.get("Name", "")
        parent = self.node_stack[-1] if self.node_stack else None
        if top and kind == FOLDER:
            # The ROOT folder Rekordbox writes around everything is not part of any path.
            self.node_stack.append(None)
            return
        path = f"{parent.path}/{name}" if parent is not None else name
        key_type = attrs.get("KeyType", BY_TRACK_ID)
        if key_type not in (BY_TRACK_ID, BY_LOCATION):
            raise self.fail(f"playlist {path!r}: KeyType must be 0 or 1, got {key_type!r}")
        node = _Node(
            path=path,
            name=name,
            is_folder=kind == FOLDER,
            by_location=key_type == BY_LOCATION,
        )
        self.nodes.append(node)
        self.node_stack.append(node)

    def add_entry(self, attrs: dict[str, str]) -> None:
        node = self.node_stack[-1] if self.node_stack else None
        if node is None or node.is_folder:
            raise self.fail("a playlist entry (TRACK) inside a folder NODE")
        key = attrs.get("Key", "")
        if not key:
            raise self.fail(f"entry of playlist {node.path!r} without a Key")
        node.entries.append(_Entry(key, self.parser.CurrentLineNumber))


def read_library(path: Path) -> Library:
    """Parse a Rekordbox XML export; every problem is an InputError naming file and line."""
    display = str(path)
    reader = _Reader(display)
    try:
        with path.open("rb") as stream:
            parse_with_positions(reader.parser, stream, display)
    except OSError as exc:
        raise InputError(f"cannot read the library: {exc.strerror}", path=display) from None
    if "COLLECTION" not in reader.seen:
        raise InputError("no <COLLECTION> in <DJ_PLAYLISTS>", path=display, line=reader.root_line)
    return Library(path, reader.tracks, reader.nodes)
