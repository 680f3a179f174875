"""The server's behaviour and the admin API over real HTTP, around two trivial handlers."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from mockserver.admin import admin_routes, is_loopback
from mockserver.replay import ReplayStore
from mockserver.routing import Dispatcher, Params, Router, serve_routes
from mockserver.settings import settings_from
from mockserver.state import ServerState
from tests.support import recording

SEARCH = "/v4/catalog/search/?q=strobe&type=tracks"
PAGE = "/track/x/1"
PAGE_BODY = ("<html>" + "x" * 20_000 + "</html>").encode()
REMOTE = "X-Test-Remote"  # lets a test pretend to come from another address


async def _search(request: web.BaseRequest, params: Params) -> web.Response:
    return web.json_response({"tracks": [{"id": 1, "q": request.query.get("q")}], "count": 1})


async def _page(request: web.BaseRequest, params: Params) -> web.Response:
    return web.Response(body=PAGE_BODY, content_type="text/html")


def _state(replay: ReplayStore | None = None, **settings: Any) -> ServerState:
    return ServerState(settings_from({}, settings), replay)


@asynccontextmanager
async def _serve(state: ServerState, admin_token: str | None = None) -> AsyncIterator[str]:
    router = Router()
    serve_routes(router, state, [("GET", "/v4/catalog/search/", _search), ("GET", PAGE, _page)])
    router.add_routes(admin_routes(state, admin_token))
    dispatcher = Dispatcher(router, state)

    async def spoofing(request: web.BaseRequest) -> web.StreamResponse:
        remote = request.headers.get(REMOTE)
        return await dispatcher.handle(request.clone(remote=remote) if remote else request)

    runner = web.ServerRunner(web.Server(spoofing, access_log=None), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def _run(
    scenario: Callable[[str, aiohttp.ClientSession], Awaitable[None]], state: ServerState
) -> None:
    async def main() -> None:
        async with _serve(state) as base, aiohttp.ClientSession() as session:
            await scenario(base, session)

    asyncio.run(main())


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, Any, bytes]:
    async with session.get(url) as response:
        return response.status, response.headers, await response.read()


async def _call(session: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> Any:
    """Status and decoded JSON body of an admin call."""
    async with session.request(method, url, **kwargs) as response:
        return response.status, await response.json()


async def _stats(session: aiohttp.ClientSession, base: str) -> Any:
    status, stats = await _call(session, "GET", base + "/__admin/stats")
    assert status == 200
    return stats


# ---------------------------------------------------------------- rate limits


def test_rate_limit_answers_429_with_headers() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        answers = [await _get(session, base + SEARCH) for _ in range(3)]
        assert [status for status, _, _ in answers] == [200, 200, 429]
        assert [h["X-RateLimit-Remaining"] for _, h, _ in answers] == ["1", "0", "0"]
        _, headers, body = answers[2]
        assert 55 <= int(headers["Retry-After"]) <= 60  # one token a minute
        assert headers["RateLimit-Policy"] == '"default";q=1;w=60'
        assert headers["RateLimit"].startswith('"default";r=0;t=')
        assert headers["X-RateLimit-Limit"] == "1"
        assert int(headers["X-RateLimit-Reset"]) >= int(headers["Retry-After"])
        assert "throttled" in json.loads(body)["detail"]
        stats = await _stats(session, base)
        assert stats["rate_limited"] == 1
        assert stats["responses"]["by_route"]["search"] == {"200": 2, "429": 1}

    _run(scenario, _state(rate_limit="1/min,burst=2"))


def test_rate_limit_per_token() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        for token, expected in (("a", 200), ("a", 429), ("b", 200)):
            headers = {"Authorization": f"Bearer {token}"}
            async with session.get(base + SEARCH, headers=headers) as response:
                assert response.status == expected

    _run(scenario, _state(rate_limit="1/min,burst=1,scope=token"))


# ---------------------------------------------------------------- faults


def test_reset_drops_the_connection() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        with pytest.raises(aiohttp.ClientConnectionError):
            await _get(session, base + SEARCH)
        assert (await _get(session, base + PAGE))[0] == 200  # other routes are untouched
        stats = await _stats(session, base)
        # aiohttp retries an idempotent request once when the connection drops: 1 or 2 resets.
        resets = stats["faults"]["reset"]
        assert resets in (1, 2) and stats["faults"] == {"reset": resets}
        assert stats["responses"]["by_route"]["search"] == {"0": resets}

    _run(scenario, _state(faults="search:reset=1"))


def test_truncate_breaks_the_body() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        with pytest.raises(aiohttp.ClientPayloadError):
            await _get(session, base + PAGE)

    _run(scenario, _state(faults="truncate=1"))


def test_invalid_json_is_a_consistent_200_with_half_a_body() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        status, headers, body = await _get(session, base + SEARCH)
        assert status == 200 and int(headers["Content-Length"]) == len(body) > 0
        with pytest.raises(ValueError):
            json.loads(body)

    _run(scenario, _state(faults="invalid_json=1"))


def test_503_and_first_n() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        statuses = [(await _get(session, base + SEARCH))[0] for _ in range(4)]
        assert statuses == [503, 503, 200, 200]
        status, _, body = await _get(session, base + PAGE)  # counted per route
        assert status == 503 and json.loads(body)["fault"] == "first"
        await _call(session, "PATCH", base + "/__admin/config", json={"faults": ["502=1"]})
        status, headers, body = await _get(session, base + SEARCH)
        assert status == 502 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["fault"] == "502"

    _run(scenario, _state(faults="first=2"))


def test_a_hang_ends_when_the_client_gives_up() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        with pytest.raises(asyncio.TimeoutError):
            await _get_with_timeout(session, base + SEARCH, 0.2)
        for _ in range(50):  # the server notices within its poll interval
            stats = await _stats(session, base)
            if stats["in_flight"]["current"] == 0:
                break
            await asyncio.sleep(0.02)
        assert stats["in_flight"] == {"current": 0, "peak": 1}
        assert stats["faults"] == {"hang": 1}
        assert stats["responses"]["by_status"] == {"0": 1}  # no answer was ever sent

    _run(scenario, _state(faults="hang=1", hang_seconds=30))


async def _get_with_timeout(session: aiohttp.ClientSession, url: str, seconds: float) -> int:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=seconds)) as response:
        return response.status


def test_a_hang_gives_up_with_504_after_hang_seconds() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        assert await _get_with_timeout(session, base + SEARCH, 5) == 504

    _run(scenario, _state(faults="hang=1", hang_seconds=0.1))


# ---------------------------------------------------------------- latency


def test_fixed_latency_delays_the_answer() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            assert (await _get(session, base + SEARCH))[0] == 200
            times.append(time.perf_counter() - started)
        assert statistics.median(times) >= 0.05
        stats = await _stats(session, base)
        assert stats["latency_ms"]["configured"]["p50"] == pytest.approx(50, rel=0.01)
        assert stats["latency_ms"]["total"]["p50"] >= 50

    _run(scenario, _state(latency="search=fixed:50ms"))


def test_requests_no_route_takes_pay_the_behaviour_too() -> None:
    # A wrong method on a served path, an unknown path, and HEAD on a served GET route:
    # aiohttp's answers, delayed and counted like any other.
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        for method, path, status in (
            ("POST", SEARCH, 405),
            ("GET", "/v4/catalog/nothing/", 404),
            ("HEAD", SEARCH, 200),
        ):
            started = time.perf_counter()
            async with session.request(method, base + path) as response:
                assert response.status == status
                if status == 405:
                    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD"}
            assert time.perf_counter() - started >= 0.05
        stats = await _stats(session, base)
        assert stats["responses"]["by_route"] == {
            "search": {"200": 1, "405": 1},
            "other": {"404": 1},
        }
        assert stats["latency_ms"]["configured"]["count"] == 3
        # /__admin/ stays outside the behaviour, known paths or not.
        async with session.get(base + "/__admin/nothing") as response:
            assert response.status == 404
        assert (await _stats(session, base))["requests"]["total"] == 3

    _run(scenario, _state(latency="fixed:50ms"))


def test_bandwidth_paces_the_body() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        started = time.perf_counter()
        status, _, body = await _get(session, base + PAGE)
        elapsed = time.perf_counter() - started
        assert status == 200 and body == PAGE_BODY
        assert elapsed >= len(PAGE_BODY) / 100_000 * 0.95

    _run(scenario, _state(latency="page=bandwidth=100KB/s"))


# ---------------------------------------------------------------- replay


def _har(path: Path, *entries: tuple[str, int, str]) -> Path:
    har_entries = [
        {
            "time": 42.0,
            "request": {"method": "GET", "url": url, "queryString": []},
            "response": {
                "status": status,
                "headers": [{"name": "Content-Type", "value": "application/json"}],
                "content": {"mimeType": "application/json", "text": text},
            },
        }
        for url, status, text in entries
    ]
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": har_entries}}))
    return path


def test_replay_answers_recorded_requests_in_sequence(tmp_path: Path) -> None:
    url = "https://api.beatport.com/v4/catalog/search/?type=tracks&q=strobe"
    store = ReplayStore.from_paths(
        [_har(tmp_path / "s.har", (url, 200, '{"recorded": 1}'), (url, 200, '{"recorded": 2}'))]
    )

    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        bodies = [json.loads((await _get(session, base + SEARCH))[2]) for _ in range(3)]
        assert bodies == [{"recorded": 1}, {"recorded": 2}, {"recorded": 2}]
        status, _, body = await _get(session, base + "/v4/catalog/search/?q=other")
        assert status == 200 and json.loads(body)["tracks"][0]["q"] == "other"  # the handler
        stats = await _stats(session, base)
        assert stats["replayed"] == 3 and stats["replay"] == {"recorded": 2}

    _run(scenario, _state(store))


def test_strict_replay_names_the_closest_recordings(tmp_path: Path) -> None:
    url = "https://api.beatport.com/v4/catalog/search/?q=strobe&type=tracks"
    store = ReplayStore.from_paths([_har(tmp_path / "s.har", (url, 200, "{}"))])

    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        status, _, body = await _get(session, base + "/v4/catalog/search/?q=strobes&type=tracks")
        assert status == 404
        answer = json.loads(body)
        assert answer["request"] == "GET /v4/catalog/search/?q=strobes&type=tracks"
        assert answer["closest"] == ["GET /v4/catalog/search/?q=strobe&type=tracks"]

    _run(scenario, _state(store, replay_strict=True))


# ---------------------------------------------------------------- admin API


def test_admin_config_patch_reset_and_journal() -> None:
    async def scenario(base: str, session: aiohttp.ClientSession) -> None:
        config = base + "/__admin/config"
        before = {"latency": ["fixed:1ms"], "rate_limit": "off", "faults": [], "challenge": "off"}
        assert await _call(session, "GET", config) == (200, before)

        patch = {"latency": ["search=fixed:2ms"], "rate_limit": "100/s,burst=5"}
        changed = {
            "latency": ["search=fixed:2ms"],
            "rate_limit": "100/s,burst=5",
            "faults": [],
            "challenge": "off",
        }
        assert await _call(session, "PATCH", config, json=patch) == (200, changed)
        bad = {"faults": ["503=2"], "latency": "none"}
        status, answer = await _call(session, "PATCH", config, json=bad)
        assert status == 400 and "probability of 503" in answer["error"]
        assert answer["option"] == "faults"
        assert (await _call(session, "PATCH", config, data=b"{not json"))[0] == 400
        assert (await _call(session, "PATCH", config, json=["latency"]))[0] == 400
        assert await _call(session, "GET", config) == (200, changed)

        for path in (SEARCH, PAGE, "/nowhere"):
            await _get(session, base + path)
        status, journal = await _call(session, "GET", base + "/__admin/requests?limit=2")
        assert [(e["target"], e["status"], e["route"]) for e in journal["requests"]] == [
            (PAGE, 200, "page"),
            ("/nowhere", 404, "other"),
        ]
        assert journal["requests"][0]["client"] == "127.0.0.1"
        assert (await _call(session, "GET", base + "/__admin/requests?limit=x"))[0] == 400
        stats = await _stats(session, base)
        assert stats["requests"]["total"] == 3
        assert stats["responses"]["by_status"] == {"200": 2, "404": 1}
        assert set(stats["latency_ms"]["total"]) >= {"p50", "p90", "p99"}
        assert stats["latency_ms"]["configured"]["count"] == 1  # only search has a delay now
        assert stats["uptime_s"] >= 0

        assert await _call(session, "POST", base + "/__admin/reset") == (200, {"reset": True})
        assert (await _stats(session, base))["requests"]["total"] == 0
        status, journal = await _call(session, "GET", base + "/__admin/requests")
        assert journal["count"] == 0

    _run(scenario, _state(latency="fixed:1ms"))


def test_admin_is_for_loopback_or_the_admin_token() -> None:
    async def main() -> None:
        state = _state()
        async with _serve(state, admin_token="s3cret") as base, aiohttp.ClientSession() as session:
            url = base + "/__admin/config"
            outside = {REMOTE: "192.0.2.7"}
            assert (await _call(session, "GET", url))[0] == 200
            assert (await _call(session, "GET", url, headers=outside))[0] == 403
            wrong = outside | {"Authorization": "Bearer nope"}
            patch = {"faults": "503=1"}
            assert (await _call(session, "PATCH", url, headers=wrong, json=patch))[0] == 403
            assert state.config_dict()["faults"] == []
            right = outside | {"Authorization": "Bearer s3cret"}
            assert (await _call(session, "GET", url, headers=right))[0] == 200
        async with _serve(state) as base, aiohttp.ClientSession() as session:
            right = {REMOTE: "192.0.2.7", "Authorization": "Bearer s3cret"}
            assert (await _call(session, "GET", base + "/__admin/stats", headers=right))[0] == 403

    asyncio.run(main())


@pytest.mark.parametrize(
    ("remote", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("10.0.0.1", False),
        ("2001:db8::1", False),
        ("not-an-address", False),
        (None, True),
    ],
)
def test_is_loopback(remote: str | None, loopback: bool) -> None:
    assert is_loopback(remote) is loopback


# ---------------------------------------------------------------- the real application


def test_the_real_app_replays_a_recording_under_latency_and_limits(
    tmp_path: Path, mock_server_factory: Callable[..., Any]
) -> None:
    """The app engineer's create_app wires the behaviour in: a real recorded track answers
    the API path it was captured from, delayed and rate limited like everything else."""
    track = recording("api-v4-track-19431036.json").read_text(encoding="utf-8")
    har = _har(
        tmp_path / "api.har", ("https://api.beatport.com/v4/catalog/tracks/19431036/", 200, track)
    )
    server = mock_server_factory(
        catalog_size=200, replay=[str(har)], latency="track=fixed:30ms", rate_limit="1/min,burst=1"
    )

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            started = time.perf_counter()
            status, headers, body = await _get(
                session, server.base_url + "/v4/catalog/tracks/19431036/"
            )
            assert time.perf_counter() - started >= 0.03
            assert status == 200 and json.loads(body) == json.loads(track)
            assert headers["X-RateLimit-Remaining"] == "0"
            status, headers, _ = await _get(
                session, server.base_url + "/v4/catalog/tracks/19431036/"
            )
            assert status == 429 and int(headers["Retry-After"]) >= 1
            stats = await _stats(session, server.base_url)
            assert stats["replayed"] == 1 and stats["rate_limited"] == 1

    asyncio.run(main())
