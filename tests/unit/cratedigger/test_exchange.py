"""The per-request state machine, driven by a scripted fake driver (no sockets)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cratedigger.breaker import Breaker, BreakerPolicy, Halt
from cratedigger.cache import ResponseCache
from cratedigger.credentials import Credentials, TokenBox
from cratedigger.errors import ParseError
from cratedigger.exchange import (
    CacheDelete,
    CacheGet,
    CachePut,
    Context,
    Send,
    SendResult,
    Sleep,
    exchange,
    obtain_token,
)
from cratedigger.metrics import MetricsCollector
from cratedigger.models import Candidate, Failure, Reply, Request, Response
from cratedigger.pacing import Pacer, RateLimit
from cratedigger.retry import RetryPolicy, TransportError

REQ = Request("GET", "/v4/catalog/search/", (("q", "x"),), kind="search", query="x", auth=True)


class FakeSource:
    name = "fake"

    def search_request(self, query: str) -> Request:
        return REQ

    def detail_request(self, candidate: Candidate) -> Request:
        return REQ

    def parse(self, request: Request, response: Response) -> list[Candidate]:
        try:
            data = orjson.loads(response.body)
        except orjson.JSONDecodeError as err:
            raise ParseError(str(err)) from err
        return [Candidate(i, "n", "Original Mix", ("a",)) for i in data]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_ctx(cache: ResponseCache | None = None, **kw: object) -> tuple[Context, Clock]:
    clock = Clock()
    ctx = Context(
        source=FakeSource(),
        base_url="http://mock",
        clock=clock,
        jitter=lambda: 0.5,
        caching=cache is not None,
        **kw,  # type: ignore[arg-type]
    )
    return ctx, clock


def drive(
    gen: object,
    outcomes: list[Response | TransportError],
    clock: Clock,
    log: list[object],
    cache: ResponseCache | None = None,
) -> object:
    """Plays the driver: sleeps advance the fake clock, sends answer from the script, cache
    actions go to `cache`. Header names are lower-cased, as the real drivers do."""
    try:
        action = next(gen)  # type: ignore[call-overload]
        while True:
            if isinstance(action, Sleep):
                log.append(action)
                clock.now += action.seconds
                action = gen.send(None)  # type: ignore[attr-defined]
            elif isinstance(action, CacheGet | CachePut | CacheDelete):
                assert cache is not None
                found: bytes | None = None
                if isinstance(action, CacheGet):
                    found = cache.get(action.key)
                elif isinstance(action, CachePut):
                    cache.put(action.key, action.body)
                else:
                    cache.delete(action.key)
                action = gen.send(found)  # type: ignore[attr-defined]
            else:
                log.append(action)
                assert isinstance(action, Send)
                started = clock.now
                clock.now += 0.05
                outcome = outcomes.pop(0)
                if isinstance(outcome, Response):
                    headers = {k.lower(): v for k, v in outcome.headers.items()}
                    outcome = Response(outcome.status, outcome.body, headers)
                action = gen.send(SendResult(outcome, started, clock.now))  # type: ignore[attr-defined]
    except StopIteration as stop:
        return stop.value


def test_success_first_time() -> None:
    collector = MetricsCollector()
    ctx, clock = make_ctx(collector=collector, tokens=TokenBox("tok"))
    log: list[object] = []
    reply = drive(exchange(REQ, ctx, 7), [Response(200, b"[1,2]")], clock, log)
    assert [c.beatport_id for c in reply] == [1, 2]  # type: ignore[union-attr]
    assert log == [Send(REQ, (("Authorization", "Bearer tok"),))]
    (rec,) = collector.requests
    assert (rec.attempts, rec.status, rec.cache_hit, rec.track_index) == (1, 200, False, 7)
    assert rec.network_time == 0.05 and rec.bytes == 5


def test_retries_transient_failures_then_succeeds() -> None:
    ctx, clock = make_ctx()
    log: list[object] = []
    script = [
        TransportError("timeout", "t"),
        Response(503, b""),
        Response(200, b"not json"),
        Response(200, b"[3]"),
    ]
    reply = drive(exchange(REQ, ctx), script, clock, log)
    assert [c.beatport_id for c in reply] == [3]  # type: ignore[union-attr]
    sleeps = [a.seconds for a in log if isinstance(a, Sleep)]
    assert sleeps == [0.5 * 0.2, 0.5 * 0.4, 0.5 * 0.8]


def test_gives_up_after_retries() -> None:
    # A breaker that never opens: this is the retry policy's own budget at work.
    never = Breaker(BreakerPolicy(threshold=1000))
    ctx, clock = make_ctx(policy=RetryPolicy(retries=2), breaker=never)
    reply = drive(exchange(REQ, ctx), [Response(503, b"")] * 3, clock, [])
    assert isinstance(reply, Failure) and reply.status == 503 and "3 attempts" in reply.reason


def test_429_pauses_the_shared_pacer() -> None:
    pacer = Pacer(RateLimit("off"))
    ctx, clock = make_ctx(pacer=pacer)
    log: list[object] = []
    script = [Response(429, b"", {"Retry-After": "2"}), Response(200, b"[]")]
    assert drive(exchange(REQ, ctx), script, clock, log) == []
    assert pacer.rate_limited == 1 and abs(pacer.pause_time - 2.0) < 1e-9
    assert clock.now >= 2.05


def test_cache_hit_skips_the_network(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    collector = MetricsCollector()
    ctx, clock = make_ctx(cache=cache, collector=collector)
    drive(exchange(REQ, ctx), [Response(200, b"[1]")], clock, [], cache)
    log: list[object] = []
    reply = drive(exchange(REQ, ctx), [], clock, log, cache)
    assert log == [], "a cached request must not be sent"
    assert [c.beatport_id for c in reply] == [1]  # type: ignore[union-attr]
    assert [r.cache_hit for r in collector.requests] == [False, True]
    cache.close()


def test_unparsable_body_is_never_cached(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    ctx, clock = make_ctx(cache=cache, policy=RetryPolicy(retries=0))
    reply = drive(exchange(REQ, ctx), [Response(200, b"{truncated")], clock, [], cache)
    assert isinstance(reply, Failure)
    assert cache.get(ctx.cache_key(REQ)) is None
    cache.close()


def test_cache_key_ignores_parameter_order() -> None:
    ctx, _ = make_ctx()
    a = Request("GET", "/p", (("a", "1"), ("b", "2")))
    b = Request("GET", "/p", (("b", "2"), ("a", "1")))
    assert ctx.cache_key(a) == ctx.cache_key(b) == "GET http://mock/p?a=1&b=2"


def test_401_renews_the_token_and_resends() -> None:
    tokens = TokenBox("old")
    ctx, clock = make_ctx(tokens=tokens, credentials=Credentials(client_id="c"))
    log: list[object] = []
    script = [Response(401, b""), Response(200, b'{"access_token": "new"}'), Response(200, b"[]")]
    assert drive(exchange(REQ, ctx), script, clock, log) == []
    sends = [a for a in log if isinstance(a, Send)]
    assert [s.request.kind for s in sends] == ["search", "token", "search"]
    assert sends[2].headers == (("Authorization", "Bearer new"),)
    assert tokens.token == "new"


def test_obtain_token_failure_is_reported() -> None:
    ctx, clock = make_ctx()
    result: Reply | None = drive(obtain_token(ctx), [Response(400, b"{}")], clock, [])  # type: ignore[assignment]
    assert isinstance(result, Failure) and "cannot get an API token" in result.reason


def test_a_request_waits_once_for_its_booked_slot() -> None:
    pacer = Pacer(RateLimit("fixed", 10.0))
    for _ in range(3):
        pacer.book(0.0)  # three requests ahead of this one: its slot is at 0.3 s
    ctx, clock = make_ctx(pacer=pacer)
    log: list[object] = []
    assert drive(exchange(REQ, ctx), [Response(200, b"[]")], clock, log) == []
    assert [type(a).__name__ for a in log] == ["Sleep", "Send"]
    assert log[0] == Sleep(pytest.approx(0.3))


def test_a_429_during_the_wait_for_a_slot_holds_the_request_back() -> None:
    pacer = Pacer(RateLimit("fixed", 10.0))
    pacer.book(0.0)  # one request ahead: this one's slot is at 0.1 s
    ctx, clock = make_ctx(pacer=pacer)
    gen = exchange(REQ, ctx)
    assert next(gen) == Sleep(pytest.approx(0.1))
    pacer.on_response(0.05, 429, {"retry-after": "2"}, 2.0)  # another request's answer
    clock.now = 0.1
    assert gen.send(None) == Sleep(pytest.approx(1.95))  # the pause, not the send
    clock.now = 2.05
    action = gen.send(None)
    assert isinstance(action, Send)
    gen.close()


# -- the circuit breaker, as the exchange uses it ------------------------------------------


def test_a_server_that_stays_down_opens_the_circuit_and_halts_after_the_budget() -> None:
    breaker = Breaker(BreakerPolicy(threshold=3, outage_budget=10.0))
    ctx, clock = make_ctx(breaker=breaker, policy=RetryPolicy(retries=4))
    log: list[object] = []
    down = [TransportError("connection", "refused")] * 100
    reply = drive(exchange(REQ, ctx), down, clock, log)
    assert isinstance(reply, Failure) and reply.halted and "unreachable" in reply.reason
    sends = [a for a in log if isinstance(a, Send)]
    # 3 attempts open the circuit, then one probe per gap (0.5, 1, 2, 4 s...) until 10 s
    assert 5 <= len(sends) <= 8
    assert breaker.halted == Halt("outage", 0.05)  # down since the first failed answer
    assert clock.now < 10.0 + 5.0 + 0.1


def test_a_probe_that_gets_an_answer_closes_the_circuit() -> None:
    breaker = Breaker(BreakerPolicy(threshold=3))
    ctx, clock = make_ctx(breaker=breaker, policy=RetryPolicy(retries=4))
    script: list[Response | TransportError] = [TransportError("connection", "refused")] * 4
    reply = drive(exchange(REQ, ctx), [*script, Response(200, b"[9]")], clock, [])
    assert [c.beatport_id for c in reply] == [9]  # type: ignore[union-attr]
    assert not breaker.open and breaker.halted is None and breaker.openings == 1


def test_failures_while_the_circuit_is_open_do_not_spend_the_retry_budget() -> None:
    ctx, clock = make_ctx(
        breaker=Breaker(BreakerPolicy(threshold=2)), policy=RetryPolicy(retries=1)
    )
    outage: list[Response | TransportError] = [Response(503, b"")] * 6
    reply = drive(exchange(REQ, ctx), [*outage, Response(200, b"[1]")], clock, [])
    assert not isinstance(reply, Failure)  # retries=1 alone would have given up at the 2nd


def test_a_halted_circuit_sends_nothing_more() -> None:
    breaker = Breaker()
    breaker.halt(Halt("challenge", 0.0, "blocked by a bot challenge"))
    ctx, clock = make_ctx(breaker=breaker)
    log: list[object] = []
    reply = drive(exchange(REQ, ctx), [], clock, log)
    assert isinstance(reply, Failure) and reply.halted and "bot challenge" in reply.reason
    assert log == []
