"""One request, from cache lookup to parsed answer, written once for every driver. Pure.

`exchange()` is a generator, like the match flow: it yields what it needs done (`Sleep`,
`Send`) and is sent back what happened (`None` after a sleep, a `Sent` after a send). It
decides pacing, retries, token renewal, caching and parsing; a driver only sleeps and sends
the way its I/O library does. That is why every mode sends the same requests and gets the
same answers.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlencode

import orjson

from cratedigger.errors import ParseError
from cratedigger.metrics import Collector, RequestRecord
from cratedigger.models import Candidate, Failure, Request, Response
from cratedigger.pacing import Pacer
from cratedigger.protocol.base import Source
from cratedigger.retry import (
    Accept,
    Decision,
    GiveUp,
    Reauthenticate,
    Retry,
    RetryPolicy,
    TransportError,
)

Reply = list[Candidate] | Failure


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Send:
    request: Request
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Sent:
    """What the driver reports after a Send: the outcome and when it started and ended."""

    outcome: Response | TransportError
    started: float
    finished: float


Action = Sleep | Send
Exchange = Generator[Action, Sent | None, Reply]


class Cache(Protocol):
    hits: int
    misses: int

    def get(self, key: str) -> bytes | None: ...
    def put(self, key: str, body: bytes) -> None: ...
    def delete(self, key: str) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to get an API token: a fixed one, or the OAuth2 token endpoint."""

    token: str | None = None
    client_id: str = "cratedigger"
    client_secret: str = ""
    username: str | None = None
    password: str | None = None

    def token_request(self) -> Request:
        form: tuple[tuple[str, str], ...]
        if self.username is not None:
            form = (
                ("grant_type", "password"),
                ("username", self.username),
                ("password", self.password or ""),
                ("client_id", self.client_id),
            )
        else:
            form = (("grant_type", "client_credentials"), ("client_id", self.client_id))
            if self.client_secret:  # public clients have none
                form += (("client_secret", self.client_secret),)
        return Request("POST", "/v4/auth/o/token/", kind="token", form=form)


class TokenBox:
    """The bearer token every request of a run shares; `generation` tells renewals apart."""

    def __init__(self, token: str | None = None) -> None:
        self._lock = threading.Lock()
        self.token = token
        self.generation = 0

    def set(self, token: str) -> None:
        with self._lock:
            self.token = token
            self.generation += 1


@dataclass
class Context:
    """Everything a run's exchanges share. Drivers build one per run."""

    source: Source
    base_url: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    pacer: Pacer = field(default_factory=Pacer)
    cache: Cache | None = None
    collector: Collector | None = None
    credentials: Credentials = field(default_factory=Credentials)
    tokens: TokenBox = field(default_factory=TokenBox)
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = field(default_factory=lambda: random.Random().random)

    def cache_key(self, request: Request) -> str:
        """Method and normalised URL: parameter order does not matter."""
        query = urlencode(sorted(request.params))
        return f"{request.method} {self.base_url.rstrip('/')}{request.path}?{query}"


@dataclass(slots=True)
class _Tally:
    """What one request cost, over all its attempts (reported to the metrics collector)."""

    started: float
    attempts: int = 0
    failures: int = 0
    rate_limited: int = 0
    network: float = 0.0
    parse: float = 0.0
    status: int = 0
    size: int = 0


def exchange(request: Request, ctx: Context, track: int | None = None) -> Exchange:
    """Get the parsed answer to one request, from the cache or over the network."""
    key = ctx.cache_key(request) if ctx.cache is not None else ""
    if ctx.cache is not None:
        tally = _Tally(ctx.clock())
        body = ctx.cache.get(key)
        if body is not None:
            try:
                candidates = ctx.source.parse(request, Response(200, body, from_cache=True))
            except ParseError:
                ctx.cache.delete(key)  # a corrupt entry is refetched, not trusted
            else:
                tally.parse, tally.status, tally.size = ctx.clock() - tally.started, 200, len(body)
                _record(ctx, request, track, tally)
                return candidates
    reply, _ = yield from _fetch(request, ctx, key, track)
    return reply


def obtain_token(ctx: Context) -> Generator[Action, Sent | None, Failure | None]:
    """Fetch a bearer token from the token endpoint into ctx.tokens; a Failure if refused."""
    request = ctx.credentials.token_request()
    reply, body = yield from _fetch(request, ctx, "", None)
    if isinstance(reply, Failure):
        return Failure(f"cannot get an API token: {reply.reason}", reply.status)
    try:
        token = orjson.loads(body)["access_token"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return Failure("cannot get an API token: the token endpoint answered no access_token")
    ctx.tokens.set(str(token))
    return None


def _pace(ctx: Context) -> Generator[Action, Sent | None, None]:
    """Wait for the pacer's slot for one request: as a rule one booking and one sleep."""
    while True:
        wait, booked = ctx.pacer.book(ctx.clock())
        if wait > 0:
            yield Sleep(wait)
            if booked and ctx.pacer.paused_for(ctx.clock()) > 0:
                continue  # a 429 paused the client while this request waited: book again
        if booked:
            return


def _fetch(
    request: Request, ctx: Context, key: str, track: int | None
) -> Generator[Action, Sent | None, tuple[Reply, bytes]]:
    tally: _Tally | None = None
    reauthenticated = False
    while True:
        yield from _pace(ctx)
        generation = ctx.tokens.generation
        sent = yield Send(request, _headers(request, ctx))
        assert sent is not None
        tally = tally or _Tally(sent.started)
        tally.attempts += 1
        tally.network += sent.finished - sent.started
        outcome = sent.outcome
        if isinstance(outcome, TransportError):
            ctx.pacer.on_transport_error(sent.finished)
            tally.failures += 1
        else:
            ctx.pacer.on_response(sent.finished, outcome.status, outcome.headers)
            tally.status, tally.size = outcome.status, len(outcome.body)
            if outcome.status == 429:
                tally.rate_limited += 1
            elif outcome.status >= 500:
                tally.failures += 1
        decision = _decide(ctx, outcome, tally, reauthenticated)
        if isinstance(decision, Accept) and isinstance(outcome, Response):
            parse_started = ctx.clock()
            try:
                reply: list[Candidate] = (
                    [] if request.kind == "token" else ctx.source.parse(request, outcome)
                )
            except ParseError as err:
                tally.parse += ctx.clock() - parse_started
                tally.failures += 1
                decision = _decide(ctx, TransportError("payload", str(err)), tally, reauthenticated)
            else:
                tally.parse += ctx.clock() - parse_started
                if ctx.cache is not None and key:
                    ctx.cache.put(key, outcome.body)
                _record(ctx, request, track, tally)
                return reply, outcome.body
        if isinstance(decision, Reauthenticate):
            reauthenticated = True
            if ctx.tokens.generation == generation:  # nobody renewed it meanwhile
                refused = yield from obtain_token(ctx)
                if refused is not None:
                    decision = GiveUp(refused.reason, 401)
        if isinstance(decision, Retry):
            yield Sleep(decision.delay)
        elif isinstance(decision, GiveUp):
            _record(ctx, request, track, tally)
            return Failure(decision.reason, decision.status), b""


def _decide(
    ctx: Context, outcome: Response | TransportError, tally: _Tally, reauthenticated: bool
) -> Decision:
    return ctx.policy.decide(
        outcome,
        failures=tally.failures,
        rate_limited=tally.rate_limited,
        reauthenticated=reauthenticated,
        jitter=ctx.jitter(),
    )


def _headers(request: Request, ctx: Context) -> tuple[tuple[str, str], ...]:
    if request.auth and ctx.tokens.token:
        return (("Authorization", f"Bearer {ctx.tokens.token}"),)
    return ()


def _record(ctx: Context, request: Request, track: int | None, tally: _Tally) -> None:
    if ctx.collector is None:
        return
    ctx.collector.record_request(
        RequestRecord(
            kind=request.kind,
            query=request.query or request.target(),
            start=tally.started,
            end=ctx.clock(),
            network_time=tally.network,
            parse_time=tally.parse,
            cache_hit=tally.attempts == 0,
            status=tally.status,
            attempts=tally.attempts,
            bytes=tally.size,
            rate_limited=tally.rate_limited,
            track_index=track,
        )
    )
