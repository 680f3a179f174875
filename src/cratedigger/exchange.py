"""One request, from cache lookup to parsed answer, written once for every driver. Pure.

`exchange()` is a generator, like the match flow: it yields what it needs done and is sent
back what happened. `Sleep` is answered with None, `Send` with a `SendResult`, `CacheGet`
with the stored body (or None), `CachePut`, `CacheDelete` and `SaveToken` with None. It
decides pacing, retries, token renewal, caching and parsing; a driver only sleeps, sends and
touches the disk (the cache, a signed-in token's store) the way its I/O library does. That
is why every mode sends the same requests and gets the same answers. Clocks, the jitter
source and locks are handed in through the `Context`.

The token: requests that need one carry the run's `TokenBox` token. Shortly before it
expires (`TokenBox.due`), or when a 401 refuses it, one request renews it for everyone (the
refresh grant if there is a refresh token) and the others wait for that renewal; a
signed-in run hands the renewed token back to be stored (`SaveToken`), and if the server
refuses to renew a sign-in the run halts: the user must sign in again.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import orjson

from cratedigger.breaker import Breaker, Go, Halt, Wait
from cratedigger.credentials import Credentials, TokenBox, renewal_time
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


@dataclass(frozen=True, slots=True)
class SaveToken:
    """A signed-in run renewed its token: store it for the next run (secrets kept out of the
    repr). `expires_in` is its lifetime in seconds, None if the server did not say."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: float | None


Action = Sleep | Send | CacheGet | CachePut | CacheDelete | SaveToken
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
        body = yield CacheGet(key)
        # Timed from the answer on: the wait for the driver's cache thread is not the
        # request's (async queues many lookups; counting the queue made query time balloon).
        cost = RequestCost(ctx.clock())
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


# What a run whose sign-in can no longer be renewed stops with (`Halt("signin")`).
SIGN_IN_EXPIRED = (
    "the sign-in has expired (the server refused to renew its token): sign in again with "
    "`cratedigger login`"
)
RENEWAL_POLL = 0.02  # how often a request waiting for another's token renewal looks again
RENEWAL_RETRY = 30.0  # after a renewal ahead of expiry failed for a while: try again then


def obtain_token(ctx: Context) -> Generator[Action, Feedback, Failure | None]:
    """Get a bearer token into ctx.tokens (renewing the one it holds, if it holds one); a
    Failure if refused. Requests that ask at the same time get one token between them."""
    return (yield from _renew(ctx, ctx.tokens.generation))


def _renew(ctx: Context, generation: int) -> Generator[Action, Feedback, Failure | None]:
    """Renew the token of `generation` once for everyone: the first request to ask renews
    it, the others wait for that and go on with its token (or its refusal)."""
    tokens = ctx.tokens
    while True:
        if tokens.claim(generation):
            return (yield from _get_token(ctx, None))
        if tokens.refused is not None:
            return Failure(tokens.refused, 401, halted=ctx.breaker.halted is not None)
        if not tokens.renewing:
            return None  # renewed since this request went out: send it again
        yield Sleep(RENEWAL_POLL)


def _renew_ahead(ctx: Context) -> Generator[Action, Feedback, None]:
    """Renew a token due for renewal before sending with it; if that fails for a while, the
    token still works until it expires (a 401 says when it no longer does)."""
    tokens = ctx.tokens
    if tokens.claim(tokens.generation):
        yield from _get_token(ctx, ctx.clock() + RENEWAL_RETRY)
        return
    while tokens.renewing:
        yield Sleep(RENEWAL_POLL)


def _get_token(ctx: Context, retry_at: float | None) -> Generator[Action, Feedback, Failure | None]:
    """Ask the token endpoint, holding the renewal: the refresh grant if there is a refresh
    token, else the credentials' grant. A refused refresh of a sign-in halts the run."""
    tokens, credentials = ctx.tokens, ctx.credentials
    refresh = tokens.refresh_token
    request = credentials.refresh_request(refresh) if refresh else credentials.token_request()
    reply, body = yield from _fetch(request, ctx, "", None)
    if isinstance(reply, Failure):
        refused = not reply.halted and reply.status is not None and 400 <= reply.status < 500
        if refused and refresh is not None and credentials.signed_in:
            tokens.release(refused=SIGN_IN_EXPIRED)
            ctx.breaker.halt(Halt("signin", ctx.clock(), SIGN_IN_EXPIRED))
            return Failure(SIGN_IN_EXPIRED, reply.status, halted=True)
        if refused and refresh is not None:  # spent or expired: the credentials' grant then
            tokens.refresh_token = None
            return (yield from _get_token(ctx, retry_at))
        reason = f"cannot get an API token: {reply.reason}"
        if refused and credentials.token is None and not credentials.client_secret:
            reason += " (sign in with `cratedigger login`, or give --token)"
        tokens.release(refused=reason if refused else None, retry_at=retry_at)
        return Failure(reason, reply.status, halted=reply.halted)
    try:
        answer = orjson.loads(body)
        token = str(answer["access_token"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        tokens.release(retry_at=retry_at)
        return Failure("cannot get an API token: the token endpoint answered no access_token")
    new_refresh = answer.get("refresh_token")
    new_refresh = str(new_refresh) if isinstance(new_refresh, str) and new_refresh else None
    lifetime = answer.get("expires_in")
    expires_in = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else None
    renew_at = None
    if expires_in is not None:
        renew_at = renewal_time(ctx.clock() + expires_in, expires_in)
    tokens.set(token, new_refresh, renew_at)
    if credentials.signed_in:
        yield SaveToken(token, new_refresh or tokens.refresh_token, expires_in)
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
        if request.auth and ctx.tokens.due(ctx.clock()):
            yield from _renew_ahead(ctx)
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
        if isinstance(decision, Reauthenticate) and request.kind == "token":
            decision = GiveUp("HTTP 401", 401)  # the token endpoint itself refused
        if isinstance(decision, Reauthenticate):
            reauthenticated = True
            refused = yield from _renew(ctx, generation)
            if refused is not None:
                if refused.halted:
                    _record(ctx, request, track, cost)
                    return Failure(refused.reason, refused.status, halted=True), b""
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
