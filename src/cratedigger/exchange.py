"""One request, from cache lookup to parsed answer, written once for every driver. Pure.

`exchange()` is a generator, like the match flow: it yields what it needs done and is sent
back what happened. `Sleep` is answered with None, `Send` with a `SendResult`, `CacheGet`
with the stored body (or None), `CachePut` and `CacheDelete` with None. It decides pacing,
retries, token renewal, caching and parsing; a driver only sleeps, sends and touches the
cache the way its I/O library does. That is why every mode sends the same requests and gets
the same answers. Clocks, the jitter source and locks are handed in through the `Context`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import orjson

from cratedigger.breaker import Breaker, Go, Halt, Wait
from cratedigger.credentials import Credentials, TokenBox
from cratedigger.errors import ParseError
from cratedigger.headers import retry_after_seconds
from cratedigger.metrics import Collector, RequestRecord
from cratedigger.models import Candidate, Failure, Reply, Request, Response
from cratedigger.pacing import Pacer
from cratedigger.protocol.base import Source
from cratedigger.retry import (
    Accept,
    Blocked,
    Decision,
    GiveUp,
    Reauthenticate,
    Retry,
    RetryPolicy,
    TransportError,
)


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Send:
    request: Request
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the driver reports after a Send: the outcome and when it started and ended.

    A `Response`'s header names are lower case (the driver folds them once)."""

    outcome: Response | TransportError
    started: float
    finished: float


@dataclass(frozen=True, slots=True)
class CacheGet:
    """Look up a stored answer body; the driver sends back the bytes, or None."""

    key: str


@dataclass(frozen=True, slots=True)
class CachePut:
    key: str
    body: bytes


@dataclass(frozen=True, slots=True)
class CacheDelete:
    key: str


Action = Sleep | Send | CacheGet | CachePut | CacheDelete
Feedback = SendResult | bytes | None
Exchange = Generator[Action, Feedback, Reply]


@dataclass
class Context:
    """Everything a run's exchanges share. The drivers' shell builds one per run.

    `clock` is monotonic seconds; `wall_clock` (seconds since the epoch) is only used to
    read HTTP-date Retry-After values, which are ignored without it.
    """

    source: Source
    base_url: str
    clock: Callable[[], float]
    jitter: Callable[[], float]  # uniform draws in [0, 1) for retry backoff
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    pacer: Pacer = field(default_factory=Pacer)
    breaker: Breaker = field(default_factory=Breaker)
    caching: bool = False
    collector: Collector | None = None
    credentials: Credentials = field(default_factory=Credentials)
    tokens: TokenBox = field(default_factory=TokenBox)
    wall_clock: Callable[[], float] | None = None

    def cache_key(self, request: Request) -> str:
        """Method and normalised URL: parameter order does not matter."""
        query = urlencode(sorted(request.params))
        return f"{request.method} {self.base_url.rstrip('/')}{request.path}?{query}"


@dataclass(slots=True)
class RequestCost:
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
    key = ctx.cache_key(request) if ctx.caching else ""
    if key:
        cost = RequestCost(ctx.clock())
        body = yield CacheGet(key)
        if isinstance(body, bytes):
            try:
                candidates = ctx.source.parse(request, Response(200, body, from_cache=True))
            except ParseError:
                yield CacheDelete(key)  # a corrupt entry is refetched, not trusted
            else:
                cost.parse, cost.status, cost.size = ctx.clock() - cost.started, 200, len(body)
                _record(ctx, request, track, cost)
                return candidates
    reply, _ = yield from _fetch(request, ctx, key, track)
    return reply


def obtain_token(ctx: Context) -> Generator[Action, Feedback, Failure | None]:
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


def _admit(ctx: Context) -> Generator[Action, Feedback, bool | Halt]:
    """Wait until the circuit lets this request out: whether it is the probe, or the halt."""
    while True:
        admission = ctx.breaker.admit(ctx.clock())
        if isinstance(admission, Go):
            return admission.probe
        if isinstance(admission, Halt):
            return admission
        assert isinstance(admission, Wait)
        yield Sleep(admission.seconds)


def _pace(ctx: Context) -> Generator[Action, Feedback, None]:
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
) -> Generator[Action, Feedback, tuple[Reply, bytes]]:
    cost: RequestCost | None = None
    reauthenticated = False
    while True:
        probe = yield from _admit(ctx)
        if isinstance(probe, Halt):
            cost = cost or RequestCost(ctx.clock())
            _record(ctx, request, track, cost)
            return Failure(_halt_reason(probe), None, halted=True), b""
        yield from _pace(ctx)
        generation = ctx.tokens.generation
        sent = yield Send(request, _headers(request, ctx))
        assert isinstance(sent, SendResult)
        if isinstance(sent.outcome, TransportError) and sent.outcome.kind == "cancelled":
            continue  # never sent: the run halted while it waited; _admit says so
        cost = cost or RequestCost(sent.started)
        cost.attempts += 1
        cost.network += sent.finished - sent.started
        outcome = sent.outcome
        hint: float | None = None
        if isinstance(outcome, TransportError):
            ctx.pacer.on_transport_error(sent.finished)
        else:
            if outcome.status == 429:
                wall = ctx.wall_clock() if ctx.wall_clock is not None else None
                hint = retry_after_seconds(outcome.headers, wall)
            ctx.pacer.on_response(sent.finished, outcome.status, outcome.headers, hint)
            cost.status, cost.size = outcome.status, len(outcome.body)
        failed = ctx.breaker.policy.failed(outcome)
        if ctx.breaker.record(sent.finished, failed, probe) and failed:
            continue  # the server is gone: wait for the circuit, not for this retry budget
        if isinstance(outcome, TransportError) or outcome.status >= 500:
            cost.failures += 1
        elif outcome.status == 429:
            cost.rate_limited += 1
        decision = _decide(ctx, outcome, cost, reauthenticated, hint)
        if isinstance(decision, Accept) and isinstance(outcome, Response):
            parse_started = ctx.clock()
            try:
                reply: list[Candidate] = (
                    [] if request.kind == "token" else ctx.source.parse(request, outcome)
                )
            except ParseError as err:
                cost.parse += ctx.clock() - parse_started
                cost.failures += 1
                decision = _decide(ctx, TransportError("payload", str(err)), cost, reauthenticated)
            else:
                cost.parse += ctx.clock() - parse_started
                if key:
                    yield CachePut(key, outcome.body)
                _record(ctx, request, track, cost)
                return reply, outcome.body
        if isinstance(decision, Reauthenticate):
            reauthenticated = True
            if ctx.tokens.generation == generation:  # nobody renewed it meanwhile
                refused = yield from obtain_token(ctx)
                if refused is not None:
                    decision = GiveUp(refused.reason, 401)
        if isinstance(decision, Blocked):  # a bot challenge: this source is closed to us
            ctx.breaker.halt(Halt("challenge", ctx.clock(), decision.reason))
            _record(ctx, request, track, cost)
            return Failure(decision.reason, decision.status, halted=True), b""
        if isinstance(decision, Retry):
            yield Sleep(decision.delay)
        elif isinstance(decision, GiveUp):
            _record(ctx, request, track, cost)
            return Failure(decision.reason, decision.status), b""


def _halt_reason(halt: Halt) -> str:
    if halt.reason == "outage":
        return "not attempted: the server was unreachable (the run stopped; --resume retries it)"
    return f"not attempted: {halt.detail or halt.reason} (the run stopped; --resume retries it)"


def _decide(
    ctx: Context,
    outcome: Response | TransportError,
    cost: RequestCost,
    reauthenticated: bool,
    retry_after: float | None = None,
) -> Decision:
    return ctx.policy.decide(
        outcome,
        failures=cost.failures,
        rate_limited=cost.rate_limited,
        reauthenticated=reauthenticated,
        jitter=ctx.jitter(),
        retry_after=retry_after,
    )


def _headers(request: Request, ctx: Context) -> tuple[tuple[str, str], ...]:
    if request.auth and ctx.tokens.token:
        return (("Authorization", f"Bearer {ctx.tokens.token}"),)
    return ()


def _record(ctx: Context, request: Request, track: int | None, cost: RequestCost) -> None:
    if ctx.collector is None:
        return
    ctx.collector.record_request(
        RequestRecord(
            kind=request.kind,
            query=request.query or request.target(),
            start=cost.started,
            end=ctx.clock(),
            network_time=cost.network,
            parse_time=cost.parse,
            cache_hit=cost.attempts == 0,
            status=cost.status,
            attempts=cost.attempts,
            bytes=cost.size,
            rate_limited=cost.rate_limited,
            track_index=track,
        )
    )
