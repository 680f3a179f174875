"""The bot-challenge mode and the per-request overrides, over real HTTP."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from cratedigger.options import MatchOptions
from cratedigger.output import journal_path
from cratedigger.retry import BOT_CHALLENGE
from cratedigger.run import run_playlist
from mockserver.catalog import Catalog
from mockserver.record import RecordConfig, recording_proxy
from tests.integration.conftest import ServerFactory, shared_catalog
from tests.integration.playlists import make_demo

TIMEOUT = 10
SIZE = 300  # a small catalog: these servers start fast
SCRIPT = b'id="__NEXT_DATA__"'


def challenged(response: requests.Response) -> bool:
    return (
        response.status_code == 403
        and response.headers.get("cf-mitigated") == "challenge"
        and b"Just a moment..." in response.content
        and SCRIPT not in response.content
    )


def token(base: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": "t"}
    answer = requests.post(f"{base}/v4/auth/o/token/", data=form, timeout=TIMEOUT).json()
    return {"Authorization": f"Bearer {answer['access_token']}"}


def test_after_n_website_requests_every_one_is_challenged(
    mock_server_factory: ServerFactory,
) -> None:
    base = mock_server_factory(catalog_size=SIZE, challenge="web:after=2").base_url
    track = shared_catalog(1, SIZE).tracks[0]
    pages = [f"/track/{track.slug}/{track.id}", "/search/tracks?q=mix", "/search?q=mix"]
    answers = [requests.get(base + page, timeout=TIMEOUT) for page in pages * 2]
    assert [a.status_code for a in answers[:2]] == [200, 200]
    assert all(challenged(a) for a in answers[2:])
    assert answers[2].headers["Content-Type"].startswith("text/html")
    # The API is not behind the challenge.
    api = requests.get(
        f"{base}/v4/catalog/tracks/{track.id}/", headers=token(base), timeout=TIMEOUT
    )
    assert api.status_code == 200
    stats = requests.get(f"{base}/__admin/stats", timeout=TIMEOUT).json()
    assert stats["responses"]["by_status"]["403"] == 4


def test_rate_mode_challenges_what_goes_beyond_the_rate(
    mock_server_factory: ServerFactory,
) -> None:
    now = [0.0]
    base = mock_server_factory(
        catalog_size=SIZE, challenge="web:rate=2/s", clock=lambda: now[0]
    ).base_url
    get = lambda: requests.get(f"{base}/search/tracks?q=a", timeout=TIMEOUT)  # noqa: E731
    assert [get().status_code for _ in range(3)] == [200, 200, 403]
    now[0] += 0.5  # one more request's worth of tokens
    assert [get().status_code for _ in range(2)] == [200, 403]


def test_the_admin_api_switches_the_challenge(mock_server_factory: ServerFactory) -> None:
    base = mock_server_factory(catalog_size=SIZE).base_url
    admin = f"{base}/__admin/config"
    assert requests.get(admin, timeout=TIMEOUT).json()["challenge"] == "off"
    patched = requests.patch(admin, json={"challenge": "web:after=0"}, timeout=TIMEOUT)
    assert patched.json()["challenge"] == "web:after=0"
    assert challenged(requests.get(f"{base}/search/tracks?q=a", timeout=TIMEOUT))
    bad = requests.patch(admin, json={"challenge": "api:after=1"}, timeout=TIMEOUT)
    assert bad.status_code == 400 and bad.json()["option"] == "challenge"
    requests.patch(admin, json={"challenge": "off"}, timeout=TIMEOUT)
    assert requests.get(f"{base}/search/tracks?q=a", timeout=TIMEOUT).status_code == 200


def test_the_proxy_records_a_challenge_and_replay_serves_it(
    mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    upstream = mock_server_factory(catalog_size=SIZE, challenge="web:after=0")
    har = tmp_path / "challenge.har"
    config = RecordConfig(upstream=upstream.base_url, out=har, port=0)
    with recording_proxy(config) as proxy:
        live = requests.get(f"{proxy.base_url}/search/tracks?q=mix", timeout=TIMEOUT)
    assert challenged(live)
    entry = json.loads(har.read_text())["log"]["entries"][0]
    assert entry["response"]["status"] == 403
    replay = mock_server_factory(catalog_size=SIZE, replay=str(har), replay_strict=True)
    replayed = requests.get(f"{replay.base_url}/search/tracks?q=mix", timeout=TIMEOUT)
    assert challenged(replayed) and replayed.content == live.content


def test_the_web_source_stops_at_once_on_a_challenge(
    mock_server_factory: ServerFactory, mock_catalog: Catalog, tmp_path: Path
) -> None:
    server = mock_server_factory(challenge="web:after=0")
    demo = make_demo(mock_catalog, tmp_path, tracks=4, seed=3)
    out = tmp_path / "web.json"
    options = MatchOptions(base_url=server.base_url, source="web")
    summary = run_playlist(demo.entries, options, "sync", out=out, progress=False)
    # The run halts at the first challenge: nothing is written as an error, nothing retried.
    assert summary.halted is not None and summary.halted.startswith(BOT_CHALLENGE)
    assert "--source api" in summary.halted
    assert (summary.errors, summary.done) == (0, 0)
    assert not out.exists() and not journal_path(out).exists()  # nothing done, nothing written
    journal = requests.get(f"{server.base_url}/__admin/requests", timeout=TIMEOUT).json()
    assert journal["count"] == 1 and {e["status"] for e in journal["requests"]} == {403}


# -- per-request overrides -------------------------------------------------------------


def test_override_headers_are_ignored_unless_allowed(mock_server_factory: ServerFactory) -> None:
    base = mock_server_factory(catalog_size=SIZE).base_url
    started = time.monotonic()
    answer = requests.get(
        f"{base}/search/tracks?q=a",
        headers={"X-Mock-Latency": "2s", "X-Mock-Fault": "503"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200 and time.monotonic() - started < 1.5


def test_override_headers_when_allowed(mock_server_factory: ServerFactory) -> None:
    base = mock_server_factory(catalog_size=SIZE, allow_overrides=True, hang_seconds=0.2)
    url = f"{base.base_url}/search/tracks?q=a"
    started = time.monotonic()
    slow = requests.get(url, headers={"X-Mock-Latency": "250ms"}, timeout=TIMEOUT)
    assert slow.status_code == 200 and time.monotonic() - started >= 0.25
    assert requests.get(url, headers={"X-Mock-Fault": "503"}, timeout=TIMEOUT).status_code == 503
    assert requests.get(url, headers={"X-Mock-Fault": "hang"}, timeout=TIMEOUT).status_code == 504
    with pytest.raises(requests.ConnectionError):
        requests.get(url, headers={"X-Mock-Fault": "reset"}, timeout=TIMEOUT)
    bad = requests.get(url, headers={"X-Mock-Fault": "teapot"}, timeout=TIMEOUT)
    assert bad.status_code == 400 and "X-Mock-Fault" in bad.json()["detail"]
    bad = requests.get(url, headers={"X-Mock-Latency": "soon"}, timeout=TIMEOUT)
    assert bad.status_code == 400 and "X-Mock-Latency" in bad.json()["detail"]
    assert requests.get(url, timeout=TIMEOUT).status_code == 200
    journal = requests.get(f"{base.base_url}/__admin/requests", timeout=TIMEOUT).json()
    faults = [e["fault"] for e in journal["requests"]]
    assert faults[:4] == [None, "503", "hang", "reset"]
