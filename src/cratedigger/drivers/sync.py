"""The synchronous driver: one requests.Session, one request at a time. The default mode."""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from typing import TypeVar

import requests
from requests.adapters import HTTPAdapter

from cratedigger.drivers.base import (
    ResultCallback,
    Results,
    advance,
    fail_track,
    finish,
    pending,
    start,
)
from cratedigger.exchange import Action, Context, Send, Sent, Sleep, exchange, obtain_token
from cratedigger.flow import match_flow
from cratedigger.metrics import Collector
from cratedigger.models import Failure, LocalTrack, MatchResult, Response
from cratedigger.options import DEFAULT_OPTIONS, MatchOptions, build_context
from cratedigger.retry import TransportError

T = TypeVar("T")

USER_AGENT = "cratedigger/0.1 (+https://github.com/cratedigger)"


class RequestsTransport:
    """Sends one `Send` with requests; maps its exceptions onto `TransportError`."""

    def __init__(self, base_url: str, timeout: float, pool_size: int = 1) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        # requests looks up the proxy variables and ~/.netrc in the environment on every
        # request: about 0.4 ms each time here, a fifth of the sync client's CPU. Every request
        # goes to the one base URL, so take the environment's proxies and CA bundle for it
        # once, as requests would, and stop the per-request lookups.
        found = self.session.merge_environment_settings(base_url, {}, None, None, None)
        self.session.proxies.update(found["proxies"])
        self.session.verify = found["verify"]
        self.session.trust_env = False

    def send(self, action: Send, ctx: Context) -> Sent:
        request = action.request
        started = ctx.clock()
        try:
            response = self.session.request(
                request.method,
                request.url(self.base_url),
                data=dict(request.form) if request.form is not None else None,
                headers=dict(action.headers),
                timeout=self.timeout,
            )
            body = response.content
        except requests.Timeout as err:
            return Sent(TransportError("timeout", _short(err)), started, ctx.clock())
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as err:
            return Sent(TransportError("payload", _short(err)), started, ctx.clock())
        except requests.RequestException as err:
            return Sent(TransportError("connection", _short(err)), started, ctx.clock())
        return Sent(
            Response(response.status_code, body, dict(response.headers)), started, ctx.clock()
        )

    def close(self) -> None:
        self.session.close()


def _short(err: Exception) -> str:
    return type(err).__name__


def run_exchange(
    gen: Generator[Action, Sent | None, T], transport: RequestsTransport, ctx: Context
) -> T:
    """Drive one exchange to its reply: sleep when told, send when told."""
    try:
        action = next(gen)
        while True:
            if isinstance(action, Sleep):
                time.sleep(action.seconds)
                action = gen.send(None)
            else:
                action = gen.send(transport.send(action, ctx))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def run_track(
    index: int,
    track: LocalTrack,
    ctx: Context,
    transport: RequestsTransport,
    options: MatchOptions,
    on_result: ResultCallback | None = None,
) -> MatchResult:
    """Match one track, its batches sent one request after another."""
    started = ctx.clock()
    flow = match_flow(track, ctx.source, options.rules)
    step = start(flow)
    while isinstance(step, list):
        step = advance(flow, [run_exchange(exchange(r, ctx, index), transport, ctx) for r in step])
    finish(ctx, index, track, step, started, on_result)
    return step


def authenticate(
    ctx: Context, transport: RequestsTransport, options: MatchOptions
) -> Failure | None:
    """Get the API token once before the run, unless one was given."""
    if not options.needs_token or ctx.tokens.token:
        return None
    return run_exchange(obtain_token(ctx), transport, ctx)


def match_track(
    track: LocalTrack, options: MatchOptions = DEFAULT_OPTIONS, collector: Collector | None = None
) -> MatchResult:
    """Match a single track synchronously."""
    return match_playlist([track], options, collector=collector)[0]


def match_playlist(
    tracks: Sequence[LocalTrack],
    options: MatchOptions = DEFAULT_OPTIONS,
    *,
    on_result: ResultCallback | None = None,
    collector: Collector | None = None,
    done: Sequence[int] | frozenset[int] = (),
    context: Context | None = None,
    keep: bool = True,
) -> list[MatchResult]:
    """Match tracks one after another; skips the indices in `done` (resume)."""
    ctx = context or build_context(options, collector)
    transport = RequestsTransport(ctx.base_url, options.timeout)
    try:
        refused = authenticate(ctx, transport, options)
        results = Results(keep)
        for index in pending(tracks, done):
            if refused is not None:
                result = fail_track(ctx, index, tracks[index], refused, on_result)
            else:
                result = run_track(index, tracks[index], ctx, transport, options, on_result)
            results.add(index, result)
        return results.ordered()
    finally:
        transport.close()
        if context is None and ctx.cache is not None:
            ctx.cache.close()
