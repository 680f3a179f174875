"""Run the mock server: in a background thread (tests, the recording proxy) or in the
foreground (the CLI, and so `mockserver.process.MockProcess`).

`running_server` gives the calling code a live server on its own event loop and thread, so
synchronous clients (requests) and other event loops can use it alike; leaving the context
closes every socket and joins the thread. `serve_forever` is the CLI's server: one line
announcing the real URL once bound, and a clean exit on SIGINT or SIGTERM.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TextIO

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler

from mockserver.app import DISPATCHER, MAX_BODY_BYTES, NOTES, create_app
from mockserver.auth import Clock
from mockserver.catalog import Catalog
from mockserver.errors import MockServerError
from mockserver.settings import Settings, settings_from

# Requests still running when the server stops (a "hang" fault, say) get this long to end.
SHUTDOWN_TIMEOUT: Final = 2.0
START_TIMEOUT: Final = 60.0


class ServerStartError(MockServerError):
    """The server could not bind or start; carries the address it tried."""


def url_host(host: str) -> str:
    """`host` as it goes into a URL (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host else host


class _DropClientGarbage(logging.Filter):
    """Drop aiohttp's tracebacks for malformed requests: the client's fault, answered 400."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, HttpProcessingError)


SERVER_LOGGER: Final = logging.getLogger("mockserver.server")
SERVER_LOGGER.addFilter(_DropClientGarbage())


def make_runner(app: web.Application) -> web.BaseRunner:
    """The runner that serves `app`: the mock's dispatcher on aiohttp's low-level server
    (see `mockserver.app`), any other Application (the recording proxy's) as it is."""
    # No access log: it would cost more than the handlers, and the CLI prints one line only.
    # Handler crashes still reach SERVER_LOGGER (and stderr) with their traceback.
    dispatcher = app.get(DISPATCHER)
    if dispatcher is None:
        return web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            logger=SERVER_LOGGER,
        )
    # The low-level server takes the protocol's options itself (ServerRunner ignores them).
    server = web.Server(
        dispatcher.handle,
        request_factory=_limited_requests(),
        logger=SERVER_LOGGER,
        access_log=None,
    )
    return web.ServerRunner(server, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT)


def _limited_requests() -> Callable[
    [RawRequestMessage, StreamReader, RequestHandler, AbstractStreamWriter,
     asyncio.Task[None]],
    web.BaseRequest,
]:  # fmt: skip
    """Requests that refuse bodies over MAX_BODY_BYTES (413), as the Application does."""
    loop = asyncio.get_running_loop()

    def make(
        message: RawRequestMessage,
        payload: StreamReader,
        protocol: RequestHandler,
        writer: AbstractStreamWriter,
        task: asyncio.Task[None],
    ) -> web.BaseRequest:
        return web.BaseRequest(
            message, payload, protocol, writer, task, loop, client_max_size=MAX_BODY_BYTES
        )

    return make


async def _start(app: web.Application, host: str, port: int) -> tuple[web.BaseRunner, int]:
    runner = make_runner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as error:
        await runner.cleanup()
        raise ServerStartError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    bound: Any = runner.addresses[0]
    return runner, int(bound[1])


class MockServerHandle:
    """A mock server running in a background thread; `stop()` (or leaving the context) ends it.

    Kept beside `mockserver.process.MockProcess` (a server in a process of its own, which
    the benchmarks use) for what only the same process can do: the tests hand a server an
    injected clock (token expiry, rate-limit windows) and a catalog built once for the whole
    session, and read its Application (`app`) and the recording proxy's entries; the
    recording proxy (`python -m mockserver record`) serves its own Application this way.
    """

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._app = app
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="mockserver", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def app(self) -> web.Application:
        return self._app

    def start(self) -> None:
        """Start the thread and wait until the socket is bound (or raise why it is not)."""
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise ServerStartError(f"mock server did not start within {START_TIMEOUT} s")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def stop(self) -> None:
        """Stop serving, close every connection and join the thread; idempotent."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and self._thread.is_alive():
            loop.call_soon_threadsafe(stopping.set)
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the starting thread, not lost
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        runner, self.port = await _start(self._app, self.host, self.port)
        try:
            self._loop = asyncio.get_running_loop()
            self._stopping = asyncio.Event()
            self._ready.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()


@contextmanager
def running_server(
    settings: Settings | None = None,
    *,
    catalog: Catalog | None = None,
    clock: Clock | None = None,
    **overrides: Any,
) -> Iterator[MockServerHandle]:
    """A mock server on a background thread for the `with` block (port 0: a free port)."""
    if settings is None:
        settings = settings_from({}, {"port": 0, **overrides})
    elif overrides:
        # Overrides take the same raw forms as the CLI's ("fixed:50ms"), so convert them.
        converted = settings_from({}, overrides)
        settings = dataclasses.replace(
            settings, **{name: getattr(converted, name) for name in overrides}
        )
    handle = MockServerHandle(
        create_app(settings, catalog=catalog, clock=clock), settings.host, settings.port
    )
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()


def serve_forever(settings: Settings, *, out: TextIO | None = None) -> None:
    """Serve until SIGINT or SIGTERM; print "mockserver listening on URL" once bound."""
    asyncio.run(_serve_forever(settings, out or sys.stdout))


async def _serve_forever(settings: Settings, out: TextIO) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Installed before the (slow) catalog build, so an early Ctrl-C is a clean stop too.
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    app = create_app(settings)
    runner, port = await _start(app, settings.host, settings.port)
    try:
        print(
            f"mockserver listening on http://{url_host(settings.host)}:{port}", file=out, flush=True
        )
        for note in app.get(NOTES, ()):
            print(note, file=out, flush=True)
        await stopping.wait()
    finally:
        await runner.cleanup()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
