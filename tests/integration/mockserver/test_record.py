"""The recording proxy against a mock upstream: transparency, redaction, valid HAR after each
entry, the CLI, replay with recorded timing, and record -> replay giving the matcher the same
results as the live upstream."""

from __future__ import annotations

import base64
import errno
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import jsonschema
import pytest
import requests

from cratedigger.models import LocalTrack, MatchResult
from cratedigger.options import MatchOptions
from cratedigger.rekordbox import read_library
from cratedigger.run import run_playlist
from mockserver.app import CATALOG
from mockserver.catalog import Catalog
from mockserver.cli import build_parser, main, settings_from_args
from mockserver.playlist import generate_playlist, write_rekordbox_xml
from mockserver.record import (
    HarWriteError,
    HarWriter,
    RecordConfig,
    recorded_entries,
    recording_proxy,
)
from mockserver.redact import REDACTED
from mockserver.replay import load_har
from mockserver.runner import MockServerHandle
from tests.integration.conftest import ServerFactory
from tests.integration.mockserver.test_cli import TIMEOUT, start_server, stop_server

TOKEN = "/v4/auth/o/token/"
SEARCH = "/v4/catalog/search/"
SMALL_CATALOG = 300  # the mock's index builds in milliseconds at this size
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
# Secrets the client itself sends or the upstream's recorded answers carry; the tokens the
# mock issues are collected from its answers as the session goes.
PASSWORD = "Hunter2-password-secret"
CLIENT_SECRET = "client-secret-4f9d2a7b"
COOKIE = "cookie-sessionid-7e1c5d"
SET_COOKIE = "set-cookie-value-93ab2c"
SESSION_HEADER = "session-header-1b2c3d4e"
JSON_FIELD = "json-field-value-5f6a7b"

# What HAR 1.2 requires of a log and its entries (the parts this proxy writes).
_NAME_VALUES = {"type": "array", "items": {"required": ["name", "value"]}}
HAR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {"required": ["name", "version"]},
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "startedDateTime",
                            "time",
                            "request",
                            "response",
                            "cache",
                            "timings",
                        ],
                        "properties": {
                            "time": {"type": "number", "minimum": 0},
                            "request": {
                                "required": [
                                    "method",
                                    "url",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "queryString",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {"headers": _NAME_VALUES, "cookies": _NAME_VALUES},
                            },
                            "response": {
                                "required": [
                                    "status",
                                    "statusText",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "content",
                                    "redirectURL",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "content": {"required": ["size", "mimeType"]},
                                    "headers": _NAME_VALUES,
                                },
                            },
                            "timings": {
                                "required": ["send", "wait", "receive"],
                                "properties": {
                                    "wait": {"type": "number", "minimum": 0},
                                    "receive": {"type": "number", "minimum": 0},
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def _har(path: Path, *entries: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": list(entries)}}))
    return path


def _entry(
    url: str, status: int, headers: dict[str, str], text: str, **extra: Any
) -> dict[str, Any]:
    content: dict[str, Any] = {"size": len(text), "text": text, **extra.pop("content", {})}
    return {
        "startedDateTime": "2024-05-01T10:00:00.000Z",
        "time": extra.pop("time", 5.0),
        "request": {"method": "GET", "url": url, "headers": [], "queryString": []},
        "response": {
            "status": status,
            "headers": [{"name": k, "value": v} for k, v in headers.items()],
            "content": content,
        },
    }


@pytest.fixture
def upstream(mock_server_factory: ServerFactory, tmp_path: Path) -> MockServerHandle:
    """A mock upstream whose catalog answers the API and website, plus two recorded pages: an
    account page that sets a cookie and returns a secret field, and a binary image."""
    har = _har(
        tmp_path / "upstream.har",
        _entry(
            "https://www.beatport.com/account/session",
            200,
            {"Content-Type": "application/json", "Set-Cookie": f"sid={SET_COOKIE}; Path=/"},
            json.dumps({"user": "dj", "session_key": JSON_FIELD}),
        ),
        _entry(
            "https://www.beatport.com/image.png",
            200,
            {"Content-Type": "image/png"},
            base64.b64encode(PNG).decode(),
            content={"encoding": "base64"},
        ),
    )
    return mock_server_factory(replay=str(har), catalog_size=SMALL_CATALOG)


@pytest.fixture
def proxy(upstream: MockServerHandle, tmp_path: Path) -> Iterator[MockServerHandle]:
    config = RecordConfig(
        upstream=upstream.base_url,
        out=tmp_path / "session.har",
        port=0,
        redact=("X-Beatport-Session", "session_key"),
    )
    with recording_proxy(config) as handle:
        yield handle


def test_a_session_with_every_kind_of_secret_leaves_none_in_the_file(
    proxy: MockServerHandle, upstream: MockServerHandle, tmp_path: Path
) -> None:
    base, session = proxy.base_url, requests.Session()
    form = {"grant_type": "password", "username": "dj", "password": PASSWORD}
    form |= {"client_id": "cratedigger", "client_secret": CLIENT_SECRET}
    first = session.post(base + TOKEN, data=form, timeout=TIMEOUT).json()
    auth = {"Authorization": f"Bearer {first['access_token']}"}
    search = session.get(
        base + SEARCH,
        params={"q": "mix", "type": "tracks"},
        headers=auth | {"Cookie": f"sessionid={COOKIE}"},
        timeout=TIMEOUT,
    )
    # A token in the query string, where some clients put it.
    account = session.get(
        base + "/v4/my/account/", params={"access_token": first["access_token"]}, headers=auth
    )
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = session.post(base + TOKEN, data=refresh, timeout=TIMEOUT).json()
    page = session.get(base + "/search", params={"q": "mix"}, timeout=TIMEOUT)
    page_token = re.search(r'"accessToken":\s*"([^"]+)"', page.text)
    extra = session.get(
        base + "/account/session", headers={"X-Beatport-Session": SESSION_HEADER}, timeout=TIMEOUT
    )
    assert search.status_code == account.status_code == page.status_code == 200
    assert extra.json()["session_key"] == JSON_FIELD  # the client gets the answer unchanged
    assert extra.headers["Set-Cookie"] == f"sid={SET_COOKIE}; Path=/"
    assert page_token is not None
    direct = requests.get(
        upstream.base_url + SEARCH, params={"q": "mix", "type": "tracks"}, headers=auth
    )
    assert search.content == direct.content

    text = (tmp_path / "session.har").read_text()
    secrets = [PASSWORD, CLIENT_SECRET, COOKIE, SET_COOKIE, SESSION_HEADER, JSON_FIELD]
    secrets += [first["access_token"], first["refresh_token"], page_token[1]]
    secrets += [second["access_token"], second["refresh_token"]]
    for secret in secrets:
        for form_of_it in {secret, quote(secret, safe=""), quote_plus(secret)}:
            assert form_of_it not in text, f"{secret!r} leaked"
    har = json.loads(text)
    jsonschema.validate(har, HAR_SCHEMA)
    entries = har["log"]["entries"]
    assert len(entries) == 6 == recorded_entries(proxy.app)
    token_answer = json.loads(entries[0]["response"]["content"]["text"])
    assert token_answer["access_token"] == token_answer["refresh_token"] == REDACTED
    assert token_answer["token_type"] == "Bearer" and token_answer["expires_in"] > 0
    assert {"name": "Authorization", "value": f"Bearer {REDACTED}"} in entries[1]["request"][
        "headers"
    ]
    assert entries[1]["request"]["cookies"] == [{"name": "sessionid", "value": REDACTED}]
    assert entries[5]["response"]["cookies"] == [{"name": "sid", "value": REDACTED}]


def test_the_file_is_valid_har_after_every_entry(proxy: MockServerHandle, tmp_path: Path) -> None:
    path = tmp_path / "session.har"
    assert json.loads(path.read_text())["log"]["entries"] == []  # valid before the first, too
    requests_made = [
        ("GET", "/search?q=one"),
        ("GET", "/v4/catalog/search?q=x"),  # 301 to the slashed path, not followed
        ("GET", "/image.png"),
        ("POST", TOKEN),
        ("GET", "/v4/catalog/tracks/1/"),  # 401 without a token
    ]
    for count, (method, target) in enumerate(requests_made, start=1):
        data = {"grant_type": "client_credentials", "client_id": "x"} if method == "POST" else None
        answer = requests.request(
            method, proxy.base_url + target, data=data, allow_redirects=False, timeout=TIMEOUT
        )
        har = json.loads(path.read_text())
        jsonschema.validate(har, HAR_SCHEMA)
        entry = har["log"]["entries"][-1]
        assert len(har["log"]["entries"]) == count
        assert entry["response"]["status"] == answer.status_code
        assert entry["time"] == pytest.approx(
            sum(v for v in entry["timings"].values() if v >= 0), abs=0.01
        )
        assert len(load_har(path)) == count  # the replayer takes it as it is
    entries = json.loads(path.read_text())["log"]["entries"]
    assert entries[1]["response"]["redirectURL"] == "/v4/catalog/search/?q=x"
    image = entries[2]["response"]["content"]
    assert image["encoding"] == "base64" and base64.b64decode(image["text"]) == PNG
    assert (
        entries[3]["request"]["postData"]["text"]
        == "grant_type=client_credentials&client_id=x"  # a client id is no secret
    )
    assert entries[4]["response"]["status"] == 401


def test_an_unreachable_upstream_answers_502_and_is_recorded_without_status(tmp_path: Path) -> None:
    config = RecordConfig(upstream="http://127.0.0.1:1", out=tmp_path / "down.har", port=0)
    with recording_proxy(config) as proxy:
        answer = requests.get(proxy.base_url + "/search?q=x", timeout=TIMEOUT)
    assert answer.status_code == 502
    (entry,) = json.loads(config.out.read_text())["log"]["entries"]
    assert entry["response"]["status"] == 0 and "_error" in entry
    assert load_har(config.out) == []  # replay skips what was never answered


def test_cli_record_on_port_0_prints_its_url_records_and_stops_cleanly(
    mock_server: str, tmp_path: Path
) -> None:
    out = tmp_path / "cli.har"
    process, url = start_server(
        "record", "--upstream", mock_server, "--port", "0", "--out", str(out)
    )
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and not url.endswith(":0")
        assert requests.get(f"{url}/search", params={"q": "mix"}, timeout=TIMEOUT).ok
    finally:
        stdout, stderr = stop_server(process, signal.SIGINT)
    assert stdout == f"recorded 1 entry to {out}\n"
    assert stderr == ""
    assert len(load_har(out)) == 1


def test_a_killed_recorder_leaves_every_answered_exchange_in_a_valid_file(
    mock_server: str, tmp_path: Path
) -> None:
    out = tmp_path / "killed.har"
    process, url = start_server(
        "record", "--upstream", mock_server, "--port", "0", "--out", str(out)
    )
    try:
        for query in ("a", "b", "c"):
            assert requests.get(f"{url}/search", params={"q": query}, timeout=TIMEOUT).ok
    finally:
        process.kill()  # no clean shutdown: SIGKILL
        process.communicate(timeout=TIMEOUT)
    assert [key[2] for key, _ in load_har(out)] == [(("q", "a"),), (("q", "b"),), (("q", "c"),)]


def test_a_failed_write_gives_back_the_valid_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "full.har"
    writer = HarWriter(path)
    writer.append({"n": 1})
    real_pwrite = os.pwrite
    calls: list[int] = []

    def disk_full_halfway(fd: int, data: bytes, offset: int) -> int:
        calls.append(len(data))
        if len(calls) == 1:  # half the entry lands, then the disk is full
            real_pwrite(fd, bytes(data)[: len(data) // 2], offset)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", disk_full_halfway)
    with pytest.raises(HarWriteError, match="No space left"):
        writer.append({"n": 2, "padding": "x" * 1000})
    assert json.loads(path.read_text())["log"]["entries"] == [{"n": 1}]
    writer.append({"n": 3})
    writer.close()
    assert json.loads(path.read_text())["log"]["entries"] == [{"n": 1}, {"n": 3}]


def test_cli_record_refuses_a_bad_upstream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["record", "--upstream", "ftp://x", "--out", str(tmp_path / "x.har")])
    assert stopped.value.code == 2
    assert "--upstream: expected an http(s) URL" in capsys.readouterr().err


# -- replay with recorded timing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "factor"),
    [(None, None), ("model", None), ("recorded", 1.0), ("0.5x", 0.5), ("2", 2.0), ("0x", 0.0)],
)
def test_replay_timing_option(option: str | None, factor: float | None) -> None:
    args = ["serve"] + ([] if option is None else ["--replay-timing", option])
    assert settings_from_args(build_parser().parse_args(args)).replay_timing == factor


def test_replay_timing_in_the_config_file_yields_to_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('replay_timing = "1.5x"\n')
    args = ["serve", "--config", str(config)]
    assert settings_from_args(build_parser().parse_args(args)).replay_timing == 1.5
    args += ["--replay-timing", "model"]
    assert settings_from_args(build_parser().parse_args(args)).replay_timing is None


@pytest.mark.parametrize("bad", ["fast", "-1x", "x", "inf"])
def test_bad_replay_timing_is_a_usage_error(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["serve", f"--replay-timing={bad}"])
    assert stopped.value.code == 2
    assert "--replay-timing: expected recorded, model or a factor" in capsys.readouterr().err


def _journal_delays(server: MockServerHandle) -> list[float | None]:
    journal = requests.get(f"{server.base_url}/__admin/requests", timeout=TIMEOUT).json()
    return [entry["latency"] for entry in journal["requests"]]


@pytest.mark.parametrize(("timing", "delay"), [("recorded", 0.2), ("0.25x", 0.05), ("model", None)])
def test_replayed_answers_wait_their_recorded_time(
    timing: str, delay: float | None, mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    url = "https://api.beatport.com/v4/catalog/tracks/777/"
    har = _har(
        tmp_path / "slow.har",
        _entry(url, 200, {"Content-Type": "application/json"}, "{}", time=200.0),
    )
    server = mock_server_factory(
        replay=str(har), replay_timing=timing, latency="fixed:1ms", catalog_size=SMALL_CATALOG
    )
    started = time.perf_counter()
    answer = requests.get(f"{server.base_url}/v4/catalog/tracks/777/", timeout=TIMEOUT)
    elapsed = time.perf_counter() - started
    assert answer.status_code == 200 and answer.content == b"{}"
    # What is not replayed keeps the latency model.
    assert requests.get(f"{server.base_url}/search?q=x", timeout=TIMEOUT).ok
    replayed_delay, model_delay = _journal_delays(server)
    assert model_delay == pytest.approx(0.001)
    assert replayed_delay == pytest.approx(0.001 if delay is None else delay)
    if delay is not None:
        assert elapsed >= delay * 0.95  # a lower bound only: the machine may be slow


# -- record, then replay: the matcher cannot tell --------------------------------------------


def _demo(catalog: Catalog, folder: Path, tracks: int) -> list[LocalTrack]:
    playlist = generate_playlist(catalog, tracks, seed=11)
    xml = folder / "demo.xml"
    write_rekordbox_xml(playlist, xml)
    return read_library(xml).playlist(playlist.path).entries


def _match(entries: list[LocalTrack], source: str, base_url: str, out: Path) -> list[MatchResult]:
    results: dict[int, MatchResult] = {}
    options = MatchOptions(source=source, base_url=base_url, cache_dir=None, retries=0)
    summary = run_playlist(
        entries,
        options,
        "sync",
        out=out,
        progress=False,
        on_result=lambda index, result: results.__setitem__(index, result),
    )
    assert summary.errors == 0
    return [results[i] for i in sorted(results)]


@pytest.mark.parametrize("source", ["api", "web"])
def test_replaying_a_recording_gives_the_matcher_the_live_results(
    source: str, mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    live_server = mock_server_factory(catalog_size=2000)
    entries = _demo(live_server.app[CATALOG], tmp_path, tracks=20)
    live = _match(entries, source, live_server.base_url, tmp_path / "live.json")
    har = tmp_path / f"{source}.har"
    with recording_proxy(RecordConfig(upstream=live_server.base_url, out=har, port=0)) as proxy:
        through_proxy = _match(entries, source, proxy.base_url, tmp_path / "proxy.json")
    # Strict, over another (tiny) catalog: every answer must come from the recording.
    replay = mock_server_factory(replay=str(har), replay_strict=True, seed=99, catalog_size=50)
    replayed = _match(entries, source, replay.base_url, tmp_path / "replay.json")

    assert sum(r.status == "matched" for r in live) >= 15
    assert through_proxy == live
    assert replayed == live
    stats = requests.get(f"{replay.base_url}/__admin/stats", timeout=TIMEOUT).json()
    assert stats["replayed"] == stats["requests"]["total"] == len(load_har(har))
