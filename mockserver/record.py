"""The recording proxy: forward to a real upstream, answer unchanged, log each exchange to HAR.

`python -m mockserver record --upstream https://api.beatport.com --out session.har` listens
like `serve` does; every request is sent on to the upstream, its answer goes back to the
client as it came (minus hop-by-hop headers; bodies decoded), and the exchange is redacted
(`mockserver.redact`) and appended to the HAR file before the client sees the answer. The
file is valid HAR 1.2 after every entry, so a crash loses at most the requests in flight,
and `serve --replay` takes it as it is.
"""

from __future__ import annotations

import base64
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TextIO
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import orjson
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from mockserver.errors import MockServerError, SpecError
from mockserver.redact import Exchange, RedactionRules, Redactor
from mockserver.replay import HOP_BY_HOP
from mockserver.runner import SERVER_LOGGER, MockServerHandle

__all__ = [
    "Answer",
    "HarWriteError",
    "HarWriter",
    "RecordConfig",
    "create_proxy_app",
    "har_entry",
    "record_forever",
    "recorded_entries",
    "recording_proxy",
]

CREATOR: Final = {"name": "mockserver record", "version": "1"}
MAX_REQUEST_BYTES: Final = 64 * 1024 * 1024
# Not forwarded: connection-level headers, the Host (the upstream's is sent), and the
# client's Accept-Encoding (the proxy asks for what it can decode, so bodies are recordable).
_NOT_FORWARDED: Final = (HOP_BY_HOP - {"content-encoding"}) | {"host", "accept-encoding"}
_TEXT_TYPES: Final = ("json", "xml", "javascript", "ecmascript", "x-www-form-urlencoded", "svg")
_LOG: Final = b'{"log": {"version": "1.2", "creator": %s, "pages": [], "entries": [\n'
_HAR_HEAD: Final = _LOG % orjson.dumps(CREATOR)
_HAR_TAIL: Final = b"\n]}}\n"


class HarWriteError(MockServerError):
    """The HAR file could not be written; names the file."""


@dataclass(frozen=True)
class RecordConfig:
    """What to record: the upstream base URL, where to listen, the file, extra secret names."""

    upstream: str
    out: Path
    host: str = "127.0.0.1"
    port: int = 8080
    redact: tuple[str, ...] = ()
    timeout: float = 60.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SpecError("--upstream", f"expected an http(s) URL, got {self.upstream!r}")
        if not self.timeout > 0:
            raise SpecError("--timeout", f"expected seconds > 0, got {self.timeout}")


class HarWriter:
    """A HAR file that is valid JSON between any two appends.

    Each entry is one `pwrite` over the closing `]}}` of the log: the entry, then a new
    `]}}`. Rewriting the whole file per entry would cost O(n²) for recordings of thousands of
    100-250 KB pages; this costs the entry's size, and a process stopped between two
    appends (Ctrl-C, a crash, SIGKILL) leaves a complete file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries = 0
        try:
            # The empty log appears atomically, replacing any file of that name whole.
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            try:
                os.write(fd, _HAR_HEAD + _HAR_TAIL)
                os.replace(temp, path)
            except BaseException:
                os.close(fd)
                os.unlink(temp)
                raise
        except OSError as error:
            raise HarWriteError(f"{path}: cannot write: {error.strerror or error}") from None
        self._fd: int | None = fd
        self._end = len(_HAR_HEAD)  # where the closing tail starts

    def append(self, entry: dict[str, Any]) -> None:
        """Add one entry; on failure the file is put back as it was and HarWriteError raised."""
        if self._fd is None:
            raise HarWriteError(f"{self.path}: already closed")
        data = (b",\n" if self.entries else b"") + orjson.dumps(entry)
        try:
            _write_all(self._fd, data + _HAR_TAIL, self._end)
        except OSError as error:
            try:  # the disk is full, say: give back the valid file
                os.ftruncate(self._fd, self._end)
                _write_all(self._fd, _HAR_TAIL, self._end)
            except OSError:
                pass
            raise HarWriteError(f"{self.path}: cannot write: {error.strerror or error}") from None
        self._end += len(data)
        self.entries += 1

    def close(self) -> None:
        """Flush to disk and close; idempotent."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


# -- HAR entries ---------------------------------------------------------------------------


def _pairs(items: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in items]


def _header(items: tuple[tuple[str, str], ...], wanted: str, default: str = "") -> str:
    return next((value for name, value in items if name.lower() == wanted), default)


def _cookies(items: tuple[tuple[str, str], ...], header: str) -> list[dict[str, str]]:
    # A Cookie header holds several pairs; a Set-Cookie one pair and then its attributes.
    pairs = [
        pair.strip().partition("=")
        for name, value in items
        if name.lower() == header
        for pair in (value.split(";") if header == "cookie" else value.split(";")[:1])
    ]
    return [{"name": cookie, "value": content} for cookie, sep, content in pairs if sep]


def _content(body: bytes, mime: str) -> dict[str, Any]:
    content: dict[str, Any] = {"size": len(body), "mimeType": mime}
    if mime.startswith("text/") or any(kind in mime for kind in _TEXT_TYPES) or not body:
        try:
            content["text"] = body.decode("utf-8")
            return content
        except UnicodeDecodeError:
            pass
    content["text"] = base64.b64encode(body).decode("ascii")
    content["encoding"] = "base64"
    return content


@dataclass(frozen=True, slots=True)
class Answer:
    """What the HAR entry says beyond the exchange: when, how long, how, and what went wrong.

    Connecting and sending are not told apart from waiting, so `time` stays what the client
    waited, connection set-up included.
    """

    started: datetime
    wait_ms: float  # sent to the answer's headers (or to the failure)
    receive_ms: float | None  # headers to the last body byte; None: no answer
    reason: str = ""
    http_version: str = ""
    error: str | None = None

    def timings(self) -> dict[str, float]:
        """HAR `timings`: -1 for what is not measured apart."""
        receive = -1.0 if self.receive_ms is None else round(self.receive_ms, 3)
        unmeasured = dict.fromkeys(("blocked", "dns", "connect", "ssl"), -1.0)
        return unmeasured | {"send": 0.0, "wait": round(self.wait_ms, 3), "receive": receive}


def har_entry(exchange: Exchange, answer: Answer) -> dict[str, Any]:
    """One HAR 1.2 entry for a (redacted) exchange."""
    request_headers, response_headers = exchange.request_headers, exchange.response_headers
    request: dict[str, Any] = {
        "method": exchange.method,
        "url": exchange.url,
        "httpVersion": "HTTP/1.1",
        "cookies": _cookies(request_headers, "cookie"),
        "headers": _pairs(request_headers),
        "queryString": _pairs(
            tuple(parse_qsl(urlsplit(exchange.url).query, keep_blank_values=True))
        ),
        "headersSize": -1,
        "bodySize": len(exchange.request_body),
    }
    if exchange.request_body:
        mime = _header(request_headers, "content-type", "application/octet-stream")
        request["postData"] = {
            k: v for k, v in _content(exchange.request_body, mime).items() if k != "size"
        }
    encoded = _header(response_headers, "content-encoding") != ""
    timings = answer.timings()
    entry: dict[str, Any] = {
        "startedDateTime": answer.started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": round(sum(v for v in timings.values() if v >= 0), 3),
        "request": request,
        "response": {
            "status": exchange.status,
            "statusText": answer.reason,
            "httpVersion": answer.http_version,
            "cookies": _cookies(response_headers, "set-cookie"),
            "headers": _pairs(response_headers),
            "content": _content(exchange.response_body, _header(response_headers, "content-type")),
            "redirectURL": _header(response_headers, "location"),
            "headersSize": -1,
            # A compressed answer's size on the wire is not known: its body is kept decoded.
            "bodySize": -1 if encoded else len(exchange.response_body),
        },
        "cache": {},
        "timings": timings,
    }
    if answer.error is not None:
        entry["_error"] = answer.error
    return entry


# -- the proxy -----------------------------------------------------------------------------


class _Recorder:
    """Forwards requests to the upstream and writes each exchange to the HAR file."""

    def __init__(self, config: RecordConfig) -> None:
        self.config = config
        self.base = config.upstream.rstrip("/")
        self.redactor = Redactor(RedactionRules().extended(config.redact))
        self.writer: HarWriter | None = None
        self.session: aiohttp.ClientSession | None = None

    @property
    def entries(self) -> int:
        return 0 if self.writer is None else self.writer.entries

    async def open(self) -> None:
        self.writer = HarWriter(self.config.out)
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.config.timeout),
            cookie_jar=aiohttp.DummyCookieJar(),  # cookies belong to the clients, not the proxy
            skip_auto_headers=("User-Agent",),  # send the client's, or none, as it did
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.writer is not None:
            self.writer.close()

    async def forward(self, request: web.Request) -> web.Response:
        assert self.session is not None
        body = await request.read()
        sent = request.headers.items()
        headers = tuple((n, v) for n, v in sent if n.lower() not in _NOT_FORWARDED)
        url = URL(self.base + request.raw_path, encoded=True)
        started, start = datetime.now(UTC), time.perf_counter()
        try:
            async with self.session.request(
                request.method,
                url,
                headers=CIMultiDict(headers),
                data=body or None,
                allow_redirects=False,
            ) as upstream:
                wait = (time.perf_counter() - start) * 1000
                payload = await upstream.read()
                receive = (time.perf_counter() - start) * 1000 - wait
        except (aiohttp.ClientError, TimeoutError) as error:
            problem = f"{type(error).__name__}: {error}".rstrip(": ")
            exchange = Exchange(request.method, str(url), headers, body, 0, (), b"")
            failed_after = (time.perf_counter() - start) * 1000
            self._write(exchange, Answer(started, failed_after, None, error=problem))
            detail = {"detail": f"The upstream {self.base} did not answer ({problem})."}
            return web.json_response(detail, status=502)
        http = upstream.version
        version = "" if http is None else f"HTTP/{http.major}.{http.minor}"
        response_headers = tuple(upstream.headers.items())
        exchange = Exchange(
            request.method, str(url), headers, body, upstream.status, response_headers, payload
        )
        self._write(exchange, Answer(started, wait, receive, upstream.reason or "", version))
        return web.Response(
            status=upstream.status,
            reason=upstream.reason,
            body=payload,
            headers=self._client_headers(response_headers, request),
        )

    def _client_headers(
        self, headers: tuple[tuple[str, str], ...], request: web.Request
    ) -> CIMultiDict[str]:
        out: CIMultiDict[str] = CIMultiDict()
        for name, value in headers:
            if name.lower() in HOP_BY_HOP:
                continue  # the body is sent decoded and whole: its length and encoding change
            if name.lower() == "location" and value.startswith(self.base):
                # A redirect to the upstream itself must lead the client back through the proxy.
                value = str(request.url.origin()) + value[len(self.base) :]
            out.add(name, value)
        return out

    def _write(self, exchange: Exchange, answer: Answer) -> None:
        assert self.writer is not None
        redacted = self.redactor.exchange(exchange)
        if answer.error is not None:  # an error message may quote the URL
            answer = replace(answer, error=self.redactor.secrets.scrub_text(answer.error))
        try:
            self.writer.append(har_entry(redacted, answer))
        except HarWriteError as error:
            # The client still gets its answer; the recording says what it lost.
            SERVER_LOGGER.error("not recorded: %s %s: %s", exchange.method, exchange.url, error)


RECORDER: Final = web.AppKey("recorder", _Recorder)


async def _handle(request: web.Request) -> web.StreamResponse:
    return await request.app[RECORDER].forward(request)


async def _lifetime(app: web.Application) -> AsyncIterator[None]:
    await app[RECORDER].open()
    yield  # aiohttp resumes this on cleanup, whatever happened meanwhile
    await app[RECORDER].close()


def create_proxy_app(config: RecordConfig) -> web.Application:
    """The recording proxy as an aiohttp application (it opens the HAR file on startup)."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[RECORDER] = _Recorder(config)
    app.cleanup_ctx.append(_lifetime)
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app


def recorded_entries(app: web.Application) -> int:
    """How many entries the proxy `app` has written so far."""
    return app[RECORDER].entries


@contextmanager
def recording_proxy(config: RecordConfig) -> Iterator[MockServerHandle]:
    """A recording proxy on a background thread for the `with` block (port 0: a free port)."""
    handle = MockServerHandle(create_proxy_app(config), config.host, config.port)
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()


def record_forever(config: RecordConfig, *, out: TextIO | None = None) -> int:
    """Record until SIGINT or SIGTERM; print the URL once bound, and the count at the end."""
    out = out or sys.stdout
    stopping = threading.Event()
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda *_: stopping.set())
    try:
        with recording_proxy(config) as proxy:
            print(f"mockserver listening on {proxy.base_url}", file=out, flush=True)
            stopping.wait()
            app = proxy.app
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    entries = recorded_entries(app)
    noun = "entry" if entries == 1 else "entries"
    print(f"recorded {entries} {noun} to {config.out}", file=out, flush=True)
    return entries
