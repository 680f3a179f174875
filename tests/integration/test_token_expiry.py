"""A signed-in token that expires in the middle of a run, in every mode, against the mock.

The server's clock is moved forward after the tenth result. Either only the server's (the
client learns of the expiry from 401s) or the client's too, to just before the expiry (the
client renews ahead of it, and no request is refused). Either way the token is renewed
exactly once for all requests in flight, the renewal is written back to the store, and the
results are those of a run during which nothing expired.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from cratedigger.credentials import Credentials
from cratedigger.drivers.aio import match_playlist_async
from cratedigger.drivers.session import open_session
from cratedigger.drivers.sync import match_playlist
from cratedigger.drivers.threads import match_playlist_threaded
from cratedigger.models import LocalTrack, MatchResult
from cratedigger.options import MatchOptions
from cratedigger.pacing import RateLimit
from cratedigger.settings import MODES
from cratedigger.signin import account, sign_in
from cratedigger.tokenstore import StoredToken, TokenFile
from mockserver.catalog import Catalog
from tests.integration.conftest import ServerFactory
from tests.integration.mockserver.test_api import FakeClock
from tests.integration.playlists import Demo, make_demo

LIFETIME = 36_000.0  # the mock's token_ttl, as Beatport's
AFTER = 10  # results before the clock moves


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("expiry"), tracks=60, seed=19)


def run(
    mode: str,
    tracks: Sequence[LocalTrack],
    options: MatchOptions,
    on_result: Callable[[int, MatchResult], None] | None = None,
    client_offset: list[float] | None = None,
) -> tuple[list[MatchResult], Any]:
    """Match with `mode`; `client_offset[0]` is added to the client's monotonic clock."""
    session = open_session(options)
    if client_offset is not None:
        session.ctx.clock = lambda: time.monotonic() + client_offset[0]
    args: dict[str, Any] = {"session": session, "on_result": on_result}
    try:
        if mode == "sync":
            results = match_playlist(tracks, options, **args)
        elif mode == "threads":
            results = match_playlist_threaded(tracks, options, **args)
        else:
            results = asyncio.run(match_playlist_async(tracks, options, **args))
    finally:
        session.close()
    return results, session


def journal(base_url: str) -> list[dict[str, Any]]:
    answer = requests.get(f"{base_url}/__admin/requests", timeout=5).json()
    entries: list[dict[str, Any]] = answer["requests"]
    return entries


def signed_in(base_url: str, folder: Path) -> tuple[MatchOptions, StoredToken]:
    stored = sign_in(base_url, "demo", "demo")
    TokenFile(folder).save(base_url, stored)
    options = MatchOptions(
        base_url=base_url, concurrency=8, rate_limit=RateLimit("off"), token_store=folder
    )
    return replace(options, credentials=stored.credentials(Credentials())), stored


@pytest.mark.parametrize("how", ["refused", "ahead"])
@pytest.mark.parametrize("mode", MODES)
def test_a_token_expiring_mid_run_is_renewed_once_and_nothing_else_changes(
    mode: str, how: str, demo: Demo, mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    clock = FakeClock()
    server = mock_server_factory(clock=clock, journal_size=5000)
    options, stored = signed_in(server.base_url, tmp_path)
    expected, _ = run(mode, demo.entries, options)  # nothing expires during this one
    requests.post(f"{server.base_url}/__admin/reset", timeout=5).raise_for_status()

    offset = [0.0]
    seen: list[int] = []

    def expire(index: int, result: MatchResult) -> None:
        seen.append(index)
        if len(seen) == AFTER:
            if how == "refused":  # the server alone: the token is dead, the client finds out
                clock.now += LIFETIME
            else:  # both, to 100 s before the expiry: the client must renew ahead of it
                clock.now += LIFETIME - 100
                offset[0] += LIFETIME - 100

    results, session = run(mode, demo.entries, options, expire, offset)

    assert results == expected
    entries = journal(server.base_url)
    token_requests = [e for e in entries if e["route"] == "token"]
    refused = [e for e in entries if e["status"] == 401]
    assert len(token_requests) == 1 and token_requests[0]["status"] == 200
    assert session.ctx.tokens.renewals == 1
    if how == "refused":
        assert refused, "the expiry was never met"
    else:
        assert refused == []  # renewed before it expired: no request was refused
    renewed = TokenFile(tmp_path).load(server.base_url)
    assert renewed is not None
    assert renewed.access_token == session.ctx.tokens.token != stored.access_token
    assert renewed.refresh_token not in (None, stored.refresh_token)
    assert (renewed.username, renewed.client_id) == ("demo", stored.client_id)
    assert renewed.expires_at is not None and renewed.expires_at > time.time() + LIFETIME - 60
    who = account(server.base_url, renewed.access_token)
    assert who is not None and who["username"] == "demo"
