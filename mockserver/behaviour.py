"""The server's behaviour: rate limits, faults, replay and latency around every request.

`with_behaviour` wraps a handler when its route is registered (`mockserver.routing`), not as
an aiohttp middleware: a middleware chain costs every request a few more coroutine layers,
and the mock must stay far from being the bottleneck of the benchmark it serves.

For each request outside `/__admin/`, in this order: know its route; draw its delay; take
the request's X-Mock-Latency and X-Mock-Fault if the server allows overrides; challenge
it if it is a website request the bot-challenge mode picks (`mockserver.challenge`);
take a rate-limit token (429 when there is none); draw a fault (unless one was asked
for); answer from the replay store or the real handler; wait until the delay has passed
since arrival; send (paced to the route's bandwidth, or deliberately broken); record stats
and a journal entry. With a replay timing set, a replayed answer waits its entry's
recorded time (scaled) instead of the drawn delay.

Every request gets the same bookkeeping (stats, journal); with nothing configured, the
answer goes out as the handler made it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from multidict import CIMultiDict

from mockserver.challenge import challenge_response
from mockserver.errors import SpecError
from mockserver.faults import FAULT_KINDS, FAULT_STATUS
from mockserver.latency import chunk_size
from mockserver.ratelimit import scope_key
from mockserver.replay import HOP_BY_HOP, RecordedResponse, describe, request_key
from mockserver.route_classes import route_of
from mockserver.specs import parse_duration
from mockserver.state import ServerState
from mockserver.stats import NO_ANSWER

__all__ = ["ADMIN_PREFIX", "FAULT_HEADER", "LATENCY_HEADER", "Params", "Served", "with_behaviour"]

Params = Mapping[str, str]  # a route pattern's parameters, by name
# A route's handler: the request and its route's parameters in, the answer out.
Served = Callable[[web.BaseRequest, Params], Awaitable[web.StreamResponse]]

ADMIN_PREFIX = "/__admin/"
# Per-request overrides, honoured when the server runs with allow_overrides (tests).
LATENCY_HEADER = "X-Mock-Latency"  # a duration: "250ms"
FAULT_HEADER = "X-Mock-Fault"  # a fault kind: "503", "reset", "hang"...
HANG_POLL = 0.05  # how often a hanging request looks whether its client is still there
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a TCP RST

_FAULT_DETAIL = {
    500: "Internal server error (injected fault).",
    502: "Bad gateway (injected fault).",
    503: "Service temporarily unavailable (injected fault).",
}


def _target(request: web.BaseRequest) -> str:
    """`request.path_qs` (the journal's target) without re-serializing the parsed URL.

    For an origin-form target with no fragment, no empty query and no leading "//", aiohttp's
    path_qs is the raw target itself; only the other cases need building.
    """
    raw = request.raw_path
    if raw[:1] == "/" and raw[1:2] != "/" and raw[-1:] != "?" and "#" not in raw:
        return raw
    return request.path_qs


class _Outcome:
    """What happened to one request, filled in as it goes, for stats and the journal."""

    __slots__ = (
        *("bytes", "delay", "fault", "forced_fault", "recorded_timing", "route", "start"),
        "status",
    )

    def __init__(self, route: str, start: float) -> None:
        self.route = route  # its route class, which its stats are kept under
        self.start = start  # when the request arrived, on the server's clock
        self.status = NO_ANSWER
        self.delay: float | None = None
        self.fault: str | None = None
        self.forced_fault: str | None = None  # asked for by the request's X-Mock-Fault
        self.bytes: int | None = None
        # The delay is a replayed entry's recorded time, which already includes the transfer.
        self.recorded_timing = False


def _json(status: int, payload: object, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers=headers,
    )


def _recorded(recorded: RecordedResponse) -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in recorded.headers:
        headers.add(name, value)
    return web.Response(status=recorded.status, body=recorded.body, headers=headers)


def _copy_headers(response: web.StreamResponse) -> CIMultiDict[str]:
    return CIMultiDict(
        (name, value) for name, value in response.headers.items() if name.lower() not in HOP_BY_HOP
    )


def _reset(request: web.BaseRequest) -> None:
    """Drop the connection with a TCP reset and no answer."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Not a TCP socket (a unix socket, say): then a plain close has to do.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    transport.abort()


async def _hang(request: web.BaseRequest, seconds: float) -> web.StreamResponse | None:
    """Hold the request until its client gives up (None), or answer 504 after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        transport = request.transport
        if transport is None or transport.is_closing():
            return None
        await asyncio.sleep(min(HANG_POLL, left))
    return _json(504, {"detail": "Gateway timeout (injected hang)."})


async def _truncated(
    request: web.BaseRequest, response: web.Response, body: bytes
) -> web.StreamResponse:
    """Announce the full Content-Length, send half the body, then close the connection."""
    stream = web.StreamResponse(status=response.status, headers=_copy_headers(response))
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    if request.transport is not None:
        request.transport.close()  # close() flushes what was written, then sends FIN
    return stream  # prepared, on a closed connection: aiohttp drops it quietly


async def _paced(
    request: web.BaseRequest, response: web.Response, body: bytes, bandwidth: float
) -> web.StreamResponse:
    """Send `response` with its body delivered no faster than `bandwidth` bytes/s."""
    stream = web.StreamResponse(status=response.status, headers=_copy_headers(response))
    stream.content_length = len(body)
    await stream.prepare(request)
    loop = asyncio.get_running_loop()
    started, step, view = loop.time(), chunk_size(bandwidth), memoryview(body)
    for offset in range(0, len(body), step):
        end = min(offset + step, len(body))
        # Wait until this chunk would have finished arriving over the limited link.
        wait = started + end / bandwidth - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        await stream.write(view[offset:end])
    await stream.write_eof()
    return stream


async def _answer(
    state: ServerState, request: web.BaseRequest, handler: Served, params: Params, outcome: _Outcome
) -> web.StreamResponse | None:
    """The answer before latency: a 429, an injected fault, a replayed or a handled response.

    None means the connection was dropped and nothing is to be sent.
    """
    if state.allow_overrides:
        refused = _take_overrides(request, outcome)
        if refused is not None:
            return refused
    challenger = state.challenger
    if challenger is not None and challenger.challenges(request.path):
        return challenge_response()
    limit_headers: dict[str, str] | None = None
    limiter = state.limiter
    if limiter is not None:
        auth = request.headers.get("Authorization")
        decision = limiter.check(scope_key(limiter.config.scope, auth, request.remote))
        limit_headers = limiter.headers(decision)
        if not decision.allowed:
            detail = f"Request was throttled. Expected available in {decision.retry_after} seconds."
            return _json(429, {"detail": detail}, limit_headers)
    fault = outcome.forced_fault
    if fault is None and state.faults.active:
        fault = state.faults.choose(outcome.route, request.path, state.rng)
    outcome.fault = fault
    if fault is not None:
        status = FAULT_STATUS.get(fault)
        if status is not None:
            return _json(status, {"detail": _FAULT_DETAIL[status], "fault": fault}, limit_headers)
        if fault == "reset":
            _reset(request)
            return None
        if fault == "hang":
            return await _hang(request, state.hang_seconds)
    response: web.StreamResponse
    replay = state.replay
    recorded = None
    if replay:
        key = request_key(request.method, request.path, request.query.items())
        recorded = replay.lookup(key)
        if recorded is None and state.replay_strict:
            closest = replay.closest(key)
            return _json(
                404, {"detail": "Not recorded.", "request": describe(key), "closest": closest}
            )
    if recorded is not None:
        state.stats.replayed += 1
        factor = state.settings.replay_timing
        if factor is not None:
            outcome.delay = recorded.time_ms / 1000.0 * factor
            outcome.recorded_timing = True
        response = _recorded(recorded)
    else:
        try:
            response = await handler(request, params)
        except web.HTTPException as error:
            if limit_headers:
                error.headers.update(limit_headers)
            raise
    if limit_headers and not response.prepared:
        response.headers.update(limit_headers)
    return response


def _take_overrides(request: web.BaseRequest, outcome: _Outcome) -> web.Response | None:
    """The request's X-Mock-Latency and X-Mock-Fault into `outcome`; a 400 naming the
    header if one is not understood."""
    latency = request.headers.get(LATENCY_HEADER)
    if latency is not None:
        try:
            outcome.delay = parse_duration(latency, LATENCY_HEADER)
        except SpecError as error:
            return _json(400, {"detail": str(error)})
    fault = request.headers.get(FAULT_HEADER)
    if fault is not None:
        kind = fault.strip().lower()
        if kind not in FAULT_KINDS:
            expected = ", ".join(FAULT_KINDS)
            return _json(400, {"detail": f"{FAULT_HEADER}: unknown fault {fault!r} ({expected})"})
        outcome.forced_fault = kind
    return None


async def _shaped(
    state: ServerState, request: web.BaseRequest, handler: Served, params: Params, outcome: _Outcome
) -> web.StreamResponse:
    """The answer with the configured latency, rate limit, faults and replay applied."""
    start = outcome.start
    latency = (
        state.latency.for_request(outcome.route, request.path) if state.latency.active else None
    )
    if latency is not None and latency.sampler is not None:
        outcome.delay = latency.sampler(state.rng)
    try:
        response = await _answer(state, request, handler, params, outcome)
    except web.HTTPException:
        await _wait_until(start, outcome.delay, state)
        raise
    if response is None:
        return web.Response(status=499)  # the connection is gone: this is never written
    if response.prepared:  # a streaming handler already sent it: nothing more to shape
        outcome.status = response.status
        return response
    if outcome.delay is not None:
        await _wait_until(start, outcome.delay, state)
    bandwidth = None if latency is None or outcome.recorded_timing else latency.bandwidth
    if bandwidth is None and outcome.fault is None:  # the common case, kept cheap
        outcome.status, outcome.bytes = response.status, response.content_length
        return response
    return await _send(request, response, outcome, bandwidth)


async def _wait_until(start: float, delay: float | None, state: ServerState) -> None:
    # The delay counts from arrival: time already spent handling is not added on top.
    if delay is not None:
        left = start + delay - state.clock()
        if left > 0:
            await asyncio.sleep(left)


async def _send(
    request: web.BaseRequest,
    response: web.StreamResponse,
    outcome: _Outcome,
    bandwidth: float | None,
) -> web.StreamResponse:
    outcome.status = response.status
    outcome.bytes = response.content_length
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        # A streamed or file body goes out as it is; body-mangling faults cannot apply.
        if outcome.fault in ("truncate", "invalid_json"):
            outcome.fault = None
        return response
    body = response.body
    if outcome.fault == "invalid_json":
        cut = body[: len(body) // 2]
        outcome.status, outcome.bytes = 200, len(cut)
        return web.Response(status=200, body=cut, headers=_copy_headers(response))
    if outcome.fault == "truncate":
        outcome.bytes = len(body) // 2
        return await _truncated(request, response, body)
    if bandwidth is not None:
        return await _paced(request, response, body, bandwidth)
    return response


def with_behaviour(state: ServerState, handler: Served, route: str | None) -> Served:
    """`handler` with `state`'s behaviour around it, its requests counted under `route`.

    With `route` None (the catch-all of unmatched requests), each request's route is
    classified from its path, and `/__admin/` paths go to `handler` untouched.
    """

    async def behaved(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        named = route
        if named is None:
            path = request.path
            if path.startswith(ADMIN_PREFIX):
                return await handler(request, params)
            named = route_of(request.method, path)
        clock, stats = state.clock, state.stats
        outcome = _Outcome(named, clock())
        stats.begin(named)
        try:
            if (
                state.limiter is not None
                or state.latency.active
                or state.faults.active
                or state.replay
                or state.challenger is not None
                or state.allow_overrides
            ):
                return await _shaped(state, request, handler, params, outcome)
            # Nothing to delay, limit, break or replay: the answer goes out as it is.
            response = await handler(request, params)
            outcome.status = response.status
            if not response.prepared:  # a streamed answer's size is not known here
                outcome.bytes = response.content_length
            return response
        except web.HTTPException as error:
            outcome.status = error.status
            raise
        except Exception:
            outcome.status = 500
            raise
        finally:
            duration = clock() - outcome.start
            stats.end(named, outcome.status, outcome.delay, duration, outcome.fault)
            state.journal.record(
                outcome.start - stats.born, request.method, _target(request), named,
                outcome.status, outcome.delay, duration, outcome.bytes, request.remote,
                outcome.fault,
            )  # fmt: skip

    return behaved
