"""Recorded responses (HAR 1.2, as browsers' dev tools save them), looked up by request.

A request matches a recording on method, path and query, ignoring scheme and host (recordings
come from api.beatport.com and www.beatport.com; the mock serves both under one host) and the
order of query parameters. Several recordings of one request replay in order, then the last
one repeats. Entries with status 0 (requests the browser never got an answer to) are skipped.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote_plus, urlencode

from yarl import URL

from mockserver.errors import ReplayError

__all__ = [
    "HOP_BY_HOP",
    "RecordedResponse",
    "ReplayStore",
    "RequestKey",
    "load_har",
    "request_key",
]

# Headers that describe one connection or one encoding of the body, not the resource: the
# mock's own server sets them for the body it actually sends.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
    }
)

RequestKey = tuple[str, str, tuple[tuple[str, str], ...]]  # method, path, sorted query
T = TypeVar("T")


def request_key(method: str, path: str, query: Iterable[tuple[str, str]]) -> RequestKey:
    """The key a request is matched by: query parameter order does not matter."""
    return method.upper(), path, tuple(sorted(query))


def describe(key: RequestKey) -> str:
    """A request key as a person reads it: `GET /v4/catalog/search/?q=x`."""
    method, path, query = key
    return f"{method} {path}" + (f"?{urlencode(query)}" if query else "")


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """One recorded answer, ready to send again."""

    status: int
    headers: tuple[tuple[str, str], ...]  # hop-by-hop and encoding headers removed
    body: bytes
    time_ms: float  # the entry's total recorded time, for replaying with recorded timing
    source: str  # "file.har#3": where it came from


_Where = tuple[str, int]  # file, entry index
_KIND_NAMES = {dict: "an object", list: "a list", str: "a string", int: "a whole number"}


def _get(container: dict[str, Any], name: str, kind: type[T], where: _Where, path: str) -> T:
    value = container.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ReplayError(where[0], f"{path}{name} is missing or not {_KIND_NAMES[kind]}", where[1])
    return value


def _entry(entry: object, where: _Where) -> tuple[RequestKey, RecordedResponse] | None:
    if not isinstance(entry, dict):
        raise ReplayError(where[0], "the entry is not an object", where[1])
    request = _get(entry, "request", dict, where, "")
    response = _get(entry, "response", dict, where, "")
    method = _get(request, "method", str, where, "request.")
    url = _get(request, "url", str, where, "request.")
    status = _get(response, "status", int, where, "response.")
    if status == 0:
        return None
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as error:
        raise ReplayError(
            where[0], f"request.url {url!r} is not a URL ({error})", where[1]
        ) from None
    query = list(parsed.query.items()) or _query_string(request.get("queryString", []), where)
    key = request_key(method, parsed.path or "/", query)
    headers = _headers(response.get("headers", []), where)
    content = response.get("content", {})
    if not isinstance(content, dict):
        raise ReplayError(where[0], "response.content is not an object", where[1])
    body = _body(content, where)
    mime = content.get("mimeType")
    if isinstance(mime, str) and mime and not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("Content-Type", mime))
    elapsed = entry.get("time", 0.0)
    if not isinstance(elapsed, int | float) or isinstance(elapsed, bool) or elapsed < 0:
        raise ReplayError(where[0], f"time {elapsed!r} is not a duration in ms", where[1])
    source = f"{Path(where[0]).name}#{where[1]}"
    return key, RecordedResponse(status, tuple(headers), body, float(elapsed), source)


def _pairs(items: object, what: str, where: _Where) -> list[tuple[str, str]]:
    if not isinstance(items, list):
        raise ReplayError(where[0], f"{what} is not a list", where[1])
    pairs: list[tuple[str, str]] = []
    for number, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(name, str) or not isinstance(value, str):
            raise ReplayError(where[0], f"{what}[{number}] needs a string name and value", where[1])
        pairs.append((name, value))
    return pairs


def _query_string(items: object, where: _Where) -> list[tuple[str, str]]:
    # Only used when the URL carries no query; tools differ on whether these are encoded.
    return [
        (unquote_plus(n), unquote_plus(v)) for n, v in _pairs(items, "request.queryString", where)
    ]


def _headers(items: object, where: _Where) -> list[tuple[str, str]]:
    # HTTP/2 captures carry pseudo-headers (":status"); they are not headers to send.
    return [
        (name, value)
        for name, value in _pairs(items, "response.headers", where)
        if not name.startswith(":") and name.lower() not in HOP_BY_HOP
    ]


def _body(content: dict[str, Any], where: _Where) -> bytes:
    if content.get("text") is None:
        return b""
    text = _get(content, "text", str, where, "response.content.")
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ReplayError(
                where[0], "response.content.text is not valid base64", where[1]
            ) from None
    return text.encode("utf-8")


def load_har(path: Path) -> list[tuple[RequestKey, RecordedResponse]]:
    """The replayable entries of one HAR file, in file order."""
    name = str(path)
    try:
        data = json.loads(path.read_bytes())
    except OSError as error:
        raise ReplayError(name, f"cannot read: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ReplayError(name, f"not JSON: {error}") from None
    log = data.get("log") if isinstance(data, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise ReplayError(name, "not a HAR file (no log.entries list)")
    found = (_entry(entry, (name, index)) for index, entry in enumerate(entries))
    return [item for item in found if item is not None]


def _har_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.har") if p.is_file()))
        else:
            files.append(path)
    return files


class ReplayStore:
    """Recorded responses by request; remembers how far each request's sequence has got."""

    def __init__(self, entries: Iterable[tuple[RequestKey, RecordedResponse]] = ()) -> None:
        self._recorded: dict[RequestKey, list[RecordedResponse]] = {}
        for key, response in entries:
            self._recorded.setdefault(key, []).append(response)
        self._position: dict[RequestKey, int] = {}

    @classmethod
    def from_paths(cls, paths: Sequence[Path]) -> ReplayStore:
        """Load HAR files, and every *.har under directories, in sorted order."""
        return cls(item for file in _har_files(paths) for item in load_har(file))

    def lookup(self, key: RequestKey) -> RecordedResponse | None:
        """The next recorded response for `key` (the last one once all were replayed)."""
        recorded = self._recorded.get(key)
        if recorded is None:
            return None
        position = self._position.get(key, 0)
        if position < len(recorded) - 1:
            self._position[key] = position + 1
        return recorded[position]

    def closest(self, key: RequestKey, n: int = 3) -> list[str]:
        """The recorded requests most like `key`, best first (for "nothing recorded" answers)."""
        known = [describe(k) for k in self._recorded]
        return difflib.get_close_matches(describe(key), known, n=n, cutoff=0.0)

    def reset(self) -> None:
        """Replay every sequence from its start again."""
        self._position.clear()

    def __len__(self) -> int:
        return sum(len(responses) for responses in self._recorded.values())

    def __bool__(self) -> bool:
        return bool(self._recorded)
