"""Token renewal in the pure exchange: ahead of expiry or on a 401, once for every request,
with the refresh grant, stored back for a signed-in run, and a halt when a sign-in is over."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pytest

from cratedigger.breaker import Halt
from cratedigger.credentials import RENEW_MARGIN, Credentials, TokenBox, renewal_time
from cratedigger.exchange import (
    RENEWAL_POLL,
    RENEWAL_RETRY,
    SIGN_IN_EXPIRED,
    Context,
    SaveToken,
    Send,
    SendResult,
    Sleep,
    exchange,
    obtain_token,
)
from cratedigger.metrics import MetricsCollector
from cratedigger.models import Failure, Response
from tests.unit.cratedigger.test_exchange import REQ, Clock, make_ctx

SIGNED_IN = Credentials(client_id="public", signed_in=True)
OK = Response(200, b"[]")


def token_answer(access: str, refresh: str | None = "r2", expires_in: int = 3600) -> Response:
    body: dict[str, object] = {"access_token": access, "expires_in": expires_in}
    if refresh is not None:
        body["refresh_token"] = refresh
    return Response(200, orjson.dumps(body))


class Script:
    """Plays the driver for one or more generators: sends answer from a script, sleeps move
    the clock, and everything the generators yielded is logged."""

    def __init__(self, clock: Clock, outcomes: list[Response]) -> None:
        self.clock, self.outcomes = clock, outcomes
        self.log: list[object] = []

    def step(self, gen: Generator[Any, Any, Any], action: object) -> object:
        """Answer `action` and return the generator's next action (StopIteration at its end)."""
        self.log.append(action)
        if isinstance(action, Sleep):
            self.clock.now += action.seconds
            return gen.send(None)
        if isinstance(action, Send):
            started = self.clock.now
            self.clock.now += 0.01
            return gen.send(SendResult(self.outcomes.pop(0), started, self.clock.now))
        assert isinstance(action, SaveToken), action
        return gen.send(None)

    def run(self, gen: Generator[Any, Any, Any]) -> Any:
        try:
            action = next(gen)
            while True:
                action = self.step(gen, action)
        except StopIteration as stop:
            return stop.value

    def sends(self) -> list[Send]:
        return [a for a in self.log if isinstance(a, Send)]

    def saved(self) -> list[SaveToken]:
        return [a for a in self.log if isinstance(a, SaveToken)]


def form_of(send: Send) -> dict[str, str]:
    return dict(send.request.form or ())


def signed_in_ctx(**kw: Any) -> tuple[Context, Clock]:
    tokens = TokenBox("old", refresh_token="r1", renew_at=kw.pop("renew_at", 100.0))
    return make_ctx(tokens=tokens, credentials=kw.pop("credentials", SIGNED_IN), **kw)


def test_renewal_time_is_a_tenth_of_the_life_before_expiry_at_most_five_minutes() -> None:
    assert renewal_time(36_000.0, 36_000.0) == 36_000.0 - RENEW_MARGIN
    assert renewal_time(60.0, 60.0) == 54.0
    assert renewal_time(5.0, -1.0) == 5.0


def test_a_token_due_for_renewal_is_refreshed_before_the_request_and_stored() -> None:
    ctx, clock = signed_in_ctx()
    clock.now = 100.0
    script = Script(clock, [token_answer("new", "r2", 3600), OK])
    assert script.run(exchange(REQ, ctx)) == []
    token, search = script.sends()
    assert form_of(token) == {
        "grant_type": "refresh_token",
        "refresh_token": "r1",
        "client_id": "public",
    }
    assert token.request.params == ()  # the refresh token is in the body, never in a URL
    assert search.headers == (("Authorization", "Bearer new"),)
    assert script.saved() == [SaveToken("new", "r2", 3600.0)]
    tokens = ctx.tokens
    assert (tokens.token, tokens.refresh_token, tokens.generation) == ("new", "r2", 1)
    assert tokens.renew_at == pytest.approx(100.01 + 3600 - 300)
    assert not tokens.due(clock.now)


def test_a_token_not_due_yet_is_used_as_it_is() -> None:
    ctx, clock = signed_in_ctx()
    clock.now = 99.9
    script = Script(clock, [OK])
    script.run(exchange(REQ, ctx))
    assert [s.headers for s in script.sends()] == [(("Authorization", "Bearer old"),)]


def test_a_401_uses_the_refresh_grant_and_a_renewal_that_keeps_no_refresh_token() -> None:
    ctx, clock = signed_in_ctx(renew_at=None)
    script = Script(clock, [Response(401, b""), token_answer("new", None), OK])
    assert script.run(exchange(REQ, ctx)) == []
    assert form_of(script.sends()[1])["grant_type"] == "refresh_token"
    assert ctx.tokens.refresh_token == "r1"  # the server gave no new one: the old one stays
    assert script.saved() == [SaveToken("new", "r1", 3600.0)]


def test_a_run_that_did_not_sign_in_stores_nothing() -> None:
    ctx, clock = make_ctx(tokens=TokenBox("old"), credentials=Credentials(client_id="c"))
    script = Script(clock, [Response(401, b""), token_answer("new"), OK])
    script.run(exchange(REQ, ctx))
    assert script.saved() == []
    assert form_of(script.sends()[1])["grant_type"] == "client_credentials"
    assert ctx.tokens.refresh_token == "r2"  # the next renewal will use it


def test_requests_refused_together_renew_once() -> None:
    """Two requests in flight get a 401: the first renews, the second waits and resends."""
    ctx, clock = signed_in_ctx(renew_at=None)
    script = Script(clock, [Response(401, b""), Response(401, b"")])
    first, second = exchange(REQ, ctx), exchange(REQ, ctx)
    a, b = next(first), next(second)  # both sent with the old token
    a = script.step(first, a)  # the first's 401: it asks for a token...
    assert isinstance(a, Send) and a.request.kind == "token"
    b = script.step(second, b)  # ...the second's 401: it waits for that renewal
    assert b == Sleep(RENEWAL_POLL)
    script.outcomes += [token_answer("new"), OK]
    assert finish(script, first, a) == []  # the token came (stored): the first resends
    b = script.step(second, b)  # the wait is over: the second resends, with the new token
    assert isinstance(b, Send) and b.headers == (("Authorization", "Bearer new"),)
    script.outcomes.append(OK)
    with pytest.raises(StopIteration):
        script.step(second, b)
    assert [s.request.kind for s in script.sends()] == [
        "search",
        "search",
        "token",
        "search",
        "search",
    ]
    assert ctx.tokens.renewals == 1 and len(script.saved()) == 1


def test_requests_due_together_renew_once() -> None:
    ctx, clock = signed_in_ctx()
    clock.now = 200.0
    script = Script(clock, [])
    first, second = exchange(REQ, ctx), exchange(REQ, ctx)
    a = next(first)
    assert isinstance(a, Send) and a.request.kind == "token"
    assert next(second) == Sleep(RENEWAL_POLL)
    script.outcomes += [token_answer("new"), OK, OK]
    assert finish(script, first, a) == []
    assert finish(script, second, Sleep(RENEWAL_POLL)) == []
    assert [s.request.kind for s in script.sends()] == ["token", "search", "search"]
    assert ctx.tokens.renewals == 1


def finish(script: Script, gen: Generator[Any, Any, Any], action: object) -> Any:
    """Drive a started generator from `action` to its end; its return value."""
    try:
        while True:
            action = script.step(gen, action)
    except StopIteration as stop:
        return stop.value


def test_a_refused_refresh_of_a_sign_in_halts_the_run() -> None:
    collector = MetricsCollector()
    ctx, clock = signed_in_ctx(renew_at=None, collector=collector)
    invalid = Response(400, b'{"error": "invalid_grant"}')
    script = Script(clock, [Response(401, b""), invalid])
    reply = script.run(exchange(REQ, ctx))
    assert reply == Failure(SIGN_IN_EXPIRED, 400, halted=True)
    assert ctx.breaker.halted == Halt("signin", pytest.approx(clock.now), SIGN_IN_EXPIRED)
    assert ctx.tokens.refused == SIGN_IN_EXPIRED and not ctx.tokens.renewing
    assert script.saved() == []
    # Every later request stops at once, sending nothing.
    later = Script(clock, [])
    failed = later.run(exchange(REQ, ctx))
    assert isinstance(failed, Failure) and failed.halted and later.sends() == []
    assert [r.kind for r in collector.requests] == ["token", "search", "search"]


def test_a_refused_refresh_at_the_start_halts_before_any_track() -> None:
    ctx, clock = signed_in_ctx()
    clock.now = 500.0
    script = Script(clock, [Response(401, b'{"error": "invalid_client"}')])
    refused = script.run(obtain_token(ctx))
    assert isinstance(refused, Failure) and refused.halted
    assert refused.reason == SIGN_IN_EXPIRED
    assert ctx.breaker.halted is not None and ctx.breaker.halted.reason == "signin"


def test_a_spent_refresh_token_of_a_run_that_did_not_sign_in_falls_back_to_its_grant() -> None:
    tokens = TokenBox("old", refresh_token="spent")
    ctx, clock = make_ctx(tokens=tokens, credentials=Credentials(client_id="c"))
    invalid = Response(400, b'{"error": "invalid_grant"}')
    script = Script(clock, [Response(401, b""), invalid, token_answer("new"), OK])
    assert script.run(exchange(REQ, ctx)) == []
    grants = [form_of(s)["grant_type"] for s in script.sends() if s.request.kind == "token"]
    assert grants == ["refresh_token", "client_credentials"]
    assert ctx.breaker.halted is None


def test_a_renewal_ahead_of_expiry_that_fails_keeps_the_token_and_tries_later() -> None:
    ctx, clock = signed_in_ctx(policy=_no_retries())
    clock.now = 100.0
    script = Script(clock, [Response(503, b""), OK])
    assert script.run(exchange(REQ, ctx)) == []
    assert script.sends()[1].headers == (("Authorization", "Bearer old"),)
    assert ctx.tokens.renew_at == pytest.approx(100.0 + RENEWAL_RETRY)
    assert ctx.tokens.refused is None and ctx.breaker.halted is None


def test_a_token_endpoint_that_refuses_a_client_says_how_to_sign_in() -> None:
    ctx, clock = make_ctx()
    refused = Script(clock, [Response(401, b'{"error": "invalid_client"}')]).run(obtain_token(ctx))
    assert isinstance(refused, Failure)
    assert "sign in with `cratedigger login`" in refused.reason
    # and the others that meet a 401 now give up at once, without asking again
    script = Script(clock, [Response(401, b"")])
    reply = script.run(exchange(REQ, ctx))
    assert isinstance(reply, Failure) and reply.reason == refused.reason
    assert [s.request.kind for s in script.sends()] == ["search"]


def test_a_token_answer_without_a_token_is_a_failure_and_the_renewal_ends() -> None:
    ctx, clock = signed_in_ctx(renew_at=None)
    result = Script(clock, [Response(200, b'{"nothing": 1}')]).run(obtain_token(ctx))
    assert isinstance(result, Failure) and "no access_token" in result.reason
    assert not ctx.tokens.renewing and ctx.tokens.refused is None


def test_no_secret_in_any_repr() -> None:
    box = TokenBox("acc3ss-secret", refresh_token="refr3sh-secret")
    credentials = Credentials(
        token="acc3ss-secret", refresh_token="refr3sh-secret", client_secret="cl1ent-secret"
    )
    texts = [repr(box), repr(credentials), repr(SaveToken("acc3ss-secret", "refr3sh-secret", 1))]
    for text in texts:
        assert "secret" not in text, text


def test_the_refresh_request_is_a_form() -> None:
    request = Credentials(client_id="cid").refresh_request("r1")
    assert request.method == "POST" and request.kind == "token" and not request.auth
    assert dict(parse_qsl("&".join(f"{k}={v}" for k, v in request.form or ()))) == {
        "grant_type": "refresh_token",
        "refresh_token": "r1",
        "client_id": "cid",
    }


def _no_retries() -> Any:
    from cratedigger.retry import RetryPolicy

    return RetryPolicy(retries=0)
