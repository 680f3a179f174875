"""`running_server`: a real server on a background thread, clean stop, garbage-proof."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading

import pytest
import requests
from aiohttp.test_utils import TestClient, TestServer

from mockserver.app import create_app
from mockserver.auth import TOKEN_STORE
from mockserver.catalog import Catalog
from mockserver.runner import MockServerHandle, ServerStartError, running_server
from mockserver.settings import settings_from
from tests.integration.conftest import shared_catalog

TIMEOUT = 10
SIZE = 300


@pytest.fixture(scope="module")
def small_catalog() -> Catalog:
    return shared_catalog(1, SIZE)


def listening_on(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return False
    return True


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mockserver"]


def test_serves_on_a_free_port_then_stops_cleanly(small_catalog: Catalog) -> None:
    before = len(server_threads())
    with running_server(catalog=small_catalog, catalog_size=SIZE) as server:
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert listening_on(server.port)
        response = requests.get(f"{server.base_url}/search?q=mix", timeout=TIMEOUT)
        assert response.status_code == 200
        assert len(server_threads()) == before + 1
    assert len(server_threads()) == before
    assert not listening_on(server.port)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.base_url}/search?q=mix", timeout=TIMEOUT)
    server.stop()  # idempotent


def test_stop_ends_open_keep_alive_connections(small_catalog: Catalog) -> None:
    before = len(server_threads())
    session = requests.Session()
    with running_server(catalog=small_catalog, catalog_size=SIZE) as server:
        assert session.get(f"{server.base_url}/search?q=a", timeout=TIMEOUT).ok
    # The session still holds its connection open, yet the server thread has ended.
    assert len(server_threads()) == before
    with pytest.raises(requests.ConnectionError):
        session.get(f"{server.base_url}/search?q=a", timeout=TIMEOUT)
    session.close()


def test_settings_and_overrides(small_catalog: Catalog) -> None:
    settings = settings_from({}, {"port": 0, "catalog_size": SIZE, "token_ttl": 5})
    with running_server(settings, catalog=small_catalog, latency="fixed:0ms") as server:
        form = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}
        token = requests.post(f"{server.base_url}/v4/auth/o/token/", data=form, timeout=TIMEOUT)
        assert token.json()["expires_in"] == 5


def test_two_servers_at_once_and_a_busy_port(small_catalog: Catalog) -> None:
    with (
        running_server(catalog=small_catalog, catalog_size=SIZE) as one,
        running_server(catalog=small_catalog, catalog_size=SIZE) as two,
    ):
        assert one.port != two.port
        with (
            pytest.raises(ServerStartError, match=str(one.port)),
            running_server(catalog=small_catalog, catalog_size=SIZE, port=one.port),
        ):
            pass  # pragma: no cover - the server must not start
        assert requests.get(f"{one.base_url}/search?q=a", timeout=TIMEOUT).ok


def raw_exchange(server: MockServerHandle, payload: bytes) -> bytes:
    """Send raw bytes, return whatever comes back before the server closes or pauses."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return b""  # reset while sending: refused, not crashed
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError:
            pass
        return b"".join(chunks)


@pytest.mark.parametrize(
    "payload",
    [
        b"\x00\xff garbage \r\n\r\n",
        b"GET /search?q=a HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /search HTTP/1.1\r\n" + b"X-H: 1\r\n" * 500 + b"\r\n",
        b"POST /v4/auth/o/token/ HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + b"a" * 1_000_000,
        b"GET /search HTTP/9.9\r\n\r\n",
    ],
    ids=["binary", "huge-header", "huge-request-line", "many-headers", "huge-body", "bad-version"],
)
def test_garbage_never_crashes_the_server(
    small_catalog: Catalog, payload: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with running_server(catalog=small_catalog, catalog_size=SIZE) as server:
        answer = raw_exchange(server, payload)
        if answer:
            status = int(answer.split(b" ", 2)[1])
            assert 400 <= status < 500, answer[:200]
        response = requests.get(f"{server.base_url}/search?q=a", timeout=TIMEOUT)
        assert response.status_code == 200
    # The client's garbage is answered, not logged as a server error with a traceback.
    server_logs = [r for r in caplog.records if r.name.startswith(("mockserver", "aiohttp"))]
    assert [r for r in server_logs if r.levelno >= logging.WARNING] == []


def test_an_oversized_body_is_refused_with_413(small_catalog: Catalog) -> None:
    with running_server(catalog=small_catalog, catalog_size=SIZE) as server:
        url = f"{server.base_url}/v4/auth/o/token/"
        body = {"grant_type": "client_credentials", "client_id": "x", "padding": "x" * 70_000}
        assert requests.post(url, data=body, timeout=TIMEOUT).status_code == 413
        del body["padding"]
        assert requests.post(url, data=body, timeout=TIMEOUT).status_code == 200


def test_create_app_mounts_as_an_aiohttp_application(small_catalog: Catalog) -> None:
    # Served through the Application (one catch-all route to the dispatcher), as
    # aiohttp's test client or an AppRunner would: the same answers and bookkeeping.
    async def scenario() -> None:
        app = create_app(settings_from({}, {"catalog_size": SIZE}), catalog=small_catalog)
        token = app[TOKEN_STORE].issue().access_token
        async with TestClient(TestServer(app)) as client:
            track = small_catalog.tracks[3]
            answer = await client.get(
                f"/v4/catalog/tracks/{track.id}/", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status == 200 and (await answer.json())["id"] == track.id
            moved = await client.get("/v4/catalog/tracks/1", allow_redirects=False)
            assert moved.status == 301 and moved.headers["Location"] == "/v4/catalog/tracks/1/"
            assert (await client.post("/search")).status == 405
            stats = await (await client.get("/__admin/stats")).json()
            assert stats["responses"]["by_route"] == {
                "track": {"200": 1, "301": 1},
                "search": {"405": 1},
            }

    asyncio.run(scenario())


def test_expect_100_continue_gets_its_go_ahead(small_catalog: Catalog) -> None:
    # curl sends this for bodies over 1 KB and waits for "100 Continue" before the body.
    body = b"grant_type=client_credentials&client_id=x"
    with running_server(catalog=small_catalog, catalog_size=SIZE) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
            sock.sendall(
                b"POST /v4/auth/o/token/ HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
            )
            assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
            sock.sendall(body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
        assert b'"access_token"' in answer
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET /search?q=a HTTP/1.1\r\nHost: x\r\nExpect: nonsense\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 417 ")


def test_an_id_too_long_to_be_one_is_not_found(
    small_catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    huge = "9" * 5000  # past the 4,300 digits Python reads as a number
    with running_server(catalog=small_catalog, catalog_size=SIZE) as server:
        token = server.app[TOKEN_STORE].issue().access_token
        auth = {"Authorization": f"Bearer {token}"}
        for path in (f"/v4/catalog/tracks/{huge}/", f"/v4/catalog/releases/{huge}/tracks/"):
            answer = requests.get(server.base_url + path, headers=auth, timeout=TIMEOUT)
            assert (answer.status_code, answer.json()) == (404, {"detail": "Not found."})
        answer = requests.get(f"{server.base_url}/track/x/{huge}", timeout=TIMEOUT)
        assert answer.status_code == 404 and "Page not found" in answer.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
