"""HAR loading and request matching, with small HAR files written by the tests."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.errors import MockServerError, ReplayError
from mockserver.replay import ReplayStore, load_har, request_key
from tests.support import recording

SEARCH_URL = "https://api.beatport.com/v4/catalog/search/?q=strobe&type=tracks&per_page=5"


def _entry(url: str, body: str = "{}", status: object = 200, **extra: Any) -> dict[str, Any]:
    return {
        "startedDateTime": "2024-05-01T10:00:00.000Z",
        "time": extra.pop("time", 123.4),
        "request": {"method": extra.pop("method", "GET"), "url": url, "queryString": []},
        "response": {
            "status": status,
            "headers": extra.pop(
                "headers", [{"name": "Content-Type", "value": "application/json"}]
            ),
            "content": extra.pop("content", {"size": len(body), "text": body}),
        },
        **extra,
    }


def _har(path: Path, *entries: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": list(entries)}}))
    return path


def test_matching_ignores_host_scheme_and_query_order(tmp_path: Path) -> None:
    store = ReplayStore.from_paths([_har(tmp_path / "a.har", _entry(SEARCH_URL, '{"n": 1}'))])
    query = [("per_page", "5"), ("type", "tracks"), ("q", "strobe")]
    recorded = store.lookup(request_key("get", "/v4/catalog/search/", query))
    assert recorded is not None
    assert (recorded.status, recorded.body, recorded.time_ms) == (200, b'{"n": 1}', 123.4)
    assert recorded.source == "a.har#0"
    assert store.lookup(request_key("GET", "/v4/catalog/search/", [("q", "strobe")])) is None
    assert store.lookup(request_key("POST", "/v4/catalog/search/", query)) is None


def test_website_and_api_recordings_share_one_host(tmp_path: Path) -> None:
    har = _har(
        tmp_path / "both.har",
        _entry("https://www.beatport.com/search/tracks?q=noisia", "<html>"),
        _entry("http://api.beatport.com/v4/catalog/tracks/19431036/", "{}"),
    )
    store = ReplayStore.from_paths([har])
    assert store.lookup(request_key("GET", "/search/tracks", [("q", "noisia")])) is not None
    assert store.lookup(request_key("GET", "/v4/catalog/tracks/19431036/", [])) is not None
    assert len(store) == 2


def test_repeated_requests_replay_in_order_then_repeat_the_last(tmp_path: Path) -> None:
    url = "https://api.beatport.com/v4/my/account/"
    har = _har(
        tmp_path / "seq.har", _entry(url, "one", 503), _entry(url, "two"), _entry(url, "three")
    )
    store = ReplayStore.from_paths([har])
    key = request_key("GET", "/v4/my/account/", [])
    bodies = [store.lookup(key) for _ in range(5)]
    assert [(r.status, r.body) for r in bodies if r] == [
        (503, b"one"),
        (200, b"two"),
        (200, b"three"),
        (200, b"three"),
        (200, b"three"),
    ]
    store.reset()
    first = store.lookup(key)
    assert first is not None and first.body == b"one"


def test_headers_lose_hop_by_hop_and_encoding_fields(tmp_path: Path) -> None:
    headers = [
        {"name": "content-type", "value": "application/json"},
        {"name": "content-encoding", "value": "br"},
        {"name": "Content-Length", "value": "999"},
        {"name": "transfer-encoding", "value": "chunked"},
        {"name": "Connection", "value": "keep-alive"},
        {"name": ":status", "value": "200"},
        {"name": "set-cookie", "value": "a=1"},
        {"name": "set-cookie", "value": "b=2"},
    ]
    store = ReplayStore.from_paths(
        [_har(tmp_path / "h.har", _entry("https://api.beatport.com/x/", headers=headers))]
    )
    recorded = store.lookup(request_key("GET", "/x/", []))
    assert recorded is not None
    assert recorded.headers == (
        ("content-type", "application/json"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    )


def test_base64_bodies_and_mime_types(tmp_path: Path) -> None:
    image = bytes(range(256))
    content = {"size": 256, "mimeType": "image/png", "encoding": "base64"}
    content["text"] = base64.b64encode(image).decode()
    har = _har(
        tmp_path / "b.har",
        _entry("https://geo-media.beatport.com/i.png", headers=[], content=content),
    )
    recorded = ReplayStore.from_paths([har]).lookup(request_key("GET", "/i.png", []))
    assert recorded is not None
    assert recorded.body == image
    assert recorded.headers == (("Content-Type", "image/png"),)


def test_a_directory_loads_every_har_under_it_in_sorted_order(tmp_path: Path) -> None:
    url = "https://api.beatport.com/v4/catalog/tracks/1/"
    (tmp_path / "sub").mkdir()
    _har(tmp_path / "b.har", _entry(url, "from b"))
    _har(tmp_path / "a.har", _entry(url, "from a"))
    _har(tmp_path / "sub" / "c.har", _entry(url, "from c"))
    (tmp_path / "notes.txt").write_text("not a HAR")
    store = ReplayStore.from_paths([tmp_path])
    key = request_key("GET", "/v4/catalog/tracks/1/", [])
    assert [r.body for r in (store.lookup(key), store.lookup(key), store.lookup(key)) if r] == [
        b"from a",
        b"from b",
        b"from c",
    ]


def test_a_chrome_devtools_export(tmp_path: Path) -> None:
    """Shaped like "Save all as HAR with content" from Chrome: HTTP/2 pseudo-headers, private
    `_` fields, a query with encoded characters, and a cancelled request with status 0."""
    url = "https://www.beatport.com/search/tracks?q=noisia%20%26%20mefjus&page=2"
    entry = {
        "_initiator": {"type": "other"},
        "_priority": "VeryHigh",
        "_resourceType": "document",
        "cache": {},
        "connection": "443",
        "pageref": "page_1",
        "request": {
            "method": "GET",
            "url": url,
            "httpVersion": "http/2.0",
            "headers": [
                {"name": ":authority", "value": "www.beatport.com"},
                {"name": ":method", "value": "GET"},
                {"name": "accept", "value": "text/html"},
            ],
            "queryString": [
                {"name": "q", "value": "noisia%20%26%20mefjus"},
                {"name": "page", "value": "2"},
            ],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": 200,
            "statusText": "",
            "httpVersion": "http/2.0",
            "headers": [
                {"name": "content-encoding", "value": "br"},
                {"name": "content-type", "value": "text/html; charset=utf-8"},
                {"name": "date", "value": "Wed, 01 May 2024 10:00:00 GMT"},
            ],
            "cookies": [],
            "content": {
                "size": 12,
                "mimeType": "text/html",
                "compression": -3,
                "text": "<html>é</html>",
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "_transferSize": 4321,
            "_error": None,
        },
        "serverIPAddress": "104.18.0.1",
        "startedDateTime": "2024-05-01T10:00:00.000Z",
        "time": 187.52,
        "timings": {
            "blocked": 2.1,
            "dns": -1,
            "ssl": -1,
            "connect": -1,
            "send": 0.2,
            "wait": 170.0,
            "receive": 15.2,
        },
    }
    cancelled = _entry("https://www.beatport.com/_next/static/x.js", status=0, content={"size": 0})
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [
                {
                    "id": "page_1",
                    "title": "Beatport",
                    "startedDateTime": "2024-05-01T10:00:00.000Z",
                    "pageTimings": {},
                }
            ],
            "entries": [entry, cancelled],
        }
    }
    path = tmp_path / "www.beatport.com.har"
    path.write_text(json.dumps(har, ensure_ascii=False), encoding="utf-8")
    loaded = load_har(path)
    assert len(loaded) == 1  # the cancelled request has nothing to replay
    key, recorded = loaded[0]
    assert key == request_key("GET", "/search/tracks", [("q", "noisia & mefjus"), ("page", "2")])
    assert recorded.body == "<html>é</html>".encode()
    assert recorded.time_ms == 187.52
    assert dict(recorded.headers) == {
        "content-type": "text/html; charset=utf-8",
        "date": "Wed, 01 May 2024 10:00:00 GMT",
    }


def test_query_string_is_used_when_the_url_has_none(tmp_path: Path) -> None:
    entry = _entry("https://api.beatport.com/v4/catalog/search/")
    entry["request"]["queryString"] = [{"name": "q", "value": "a+b"}]
    store = ReplayStore.from_paths([_har(tmp_path / "q.har", entry)])
    assert store.lookup(request_key("GET", "/v4/catalog/search/", [("q", "a b")])) is not None


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"request": {"method": "GET", "url": "https://x/"}}], "entry 0: response is missing"),
        (
            [_entry("https://x/"), {"request": {"url": "https://x/"}, "response": {}}],
            "entry 1: request.method",
        ),
        (
            [_entry("https://x/", status="200")],
            "entry 0: response.status is missing or not a whole number",
        ),
        ([_entry("https://x/", headers={"a": "b"})], "entry 0: response.headers is not a list"),
        (
            [_entry("https://x/", headers=[{"name": "a"}])],
            "response.headers[0] needs a string name",
        ),
        ([_entry("https://x/", content={"text": "%%%", "encoding": "base64"})], "not valid base64"),
        (
            [_entry("https://x/", content={"text": 5})],
            "response.content.text is missing or not a string",
        ),
        ([_entry("https://x/", time="slow")], "time 'slow' is not a duration"),
        (["just a string"], "entry 0: the entry is not an object"),
    ],
)
def test_malformed_entries_name_the_file_and_the_entry(
    tmp_path: Path, entries: list[Any], message: str
) -> None:
    path = _har(tmp_path / "bad.har", *entries)
    with pytest.raises(ReplayError) as caught:
        ReplayStore.from_paths([path])
    assert str(caught.value).startswith(f"{path}: entry ")
    assert message in str(caught.value)
    assert isinstance(caught.value, MockServerError)


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "not JSON"), ('{"log": {}}', "no log.entries list"), ("[]", "no log.entries")],
)
def test_files_that_are_not_har(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.har"
    path.write_text(text)
    with pytest.raises(ReplayError, match=message) as caught:
        load_har(path)
    assert caught.value.path == str(path) and caught.value.entry is None


def test_closest_recorded_requests(tmp_path: Path) -> None:
    har = _har(
        tmp_path / "c.har",
        _entry("https://api.beatport.com/v4/catalog/search/?q=strobe&type=tracks"),
        _entry("https://api.beatport.com/v4/catalog/tracks/19431036/"),
        _entry("https://api.beatport.com/v4/my/account/"),
    )
    store = ReplayStore.from_paths([har])
    key = request_key("GET", "/v4/catalog/search/", [("q", "strobes"), ("type", "tracks")])
    closest = store.closest(key)
    assert closest[0] == "GET /v4/catalog/search/?q=strobe&type=tracks"
    assert len(closest) == 3


def test_a_real_recorded_page_round_trips_byte_for_byte(tmp_path: Path) -> None:
    page = recording("web-search-noisia.html").read_bytes()
    content = {
        "mimeType": "text/html",
        "encoding": "base64",
        "text": base64.b64encode(page).decode(),
    }
    url = "https://www.beatport.com/search?q=noisia"
    store = ReplayStore.from_paths(
        [_har(tmp_path / "w.har", _entry(url, headers=[], content=content))]
    )
    recorded = store.lookup(request_key("GET", "/search", [("q", "noisia")]))
    assert recorded is not None and recorded.body == page
    assert recorded.headers == (("Content-Type", "text/html"),)
