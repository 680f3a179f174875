"""The mock answers in Beatport's real formats: every key path of each recording, with its
JSON type, is in the mock's answer to the same kind of request.

List elements are unified ("tracks[].artists[].name" is one path whatever the index) and a
null in the recording matches any type. One subtree is skipped:
`_nextI18Next.initialI18nStore.<locale>.translation` holds the website's UI strings
(hundreds of keys like "Account.Email.Options.Snooze.label"); the mock generates its own
table of realistic size instead of copying Beatport's text, and no client reads it. Every
other key of `_nextI18Next` (locale, namespaces, userConfig) is checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from mockserver.catalog import Catalog
from mockserver.model import Track
from mockserver.render_web import BUILD_ID
from tests.support import RECORDINGS, recording

TIMEOUT = 10
# Every recording and the test below that compares the mock's answer with it.
CHECKED = {
    "api-v4-track-19431036.json": "test_api_track",
    "api-v4-release-4706244.json": "test_api_release",
    "api-v4-search-tracks-strobe.json": "test_api_search",
    "web-search-noisia.html": "test_web_search_page",
    "web-track-page-next-data-6389004.json": "test_web_track_page",
    "web-next-data-route-194481.json": "test_next_data_route",
}
SKIPPED = re.compile(r"^(.*\.)?_nextI18Next\.initialI18nStore\.[^.]+\.translation\.")
NEXT_DATA = re.compile(rb'<script id="__NEXT_DATA__" type="application/json">(.*?)</script>', re.S)


def json_type(value: Any) -> str:
    # bool before int: in Python a bool is an int.
    for kind, name in ((bool, "boolean"), ((int, float), "number"), (str, "string")):
        if isinstance(value, kind):
            return name
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def key_paths(value: Any, prefix: str = "") -> dict[str, set[str]]:
    """Every key path under `value` with the JSON types seen there, list elements unified."""
    paths: dict[str, set[str]] = {}

    def walk(node: Any, path: str) -> None:
        if SKIPPED.match(path + "."):
            return
        if path:
            paths.setdefault(path, set()).add(json_type(node))
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for child in node:
                walk(child, f"{path}[]")

    walk(value, prefix)
    return paths


def missing_paths(expected: Any, actual: Any) -> list[str]:
    """Paths (and types) of `expected` that `actual` lacks, as readable lines."""
    want, have = key_paths(expected), key_paths(actual)
    problems = []
    for path, types in sorted(want.items()):
        if path not in have:
            problems.append(f"{path}: missing")
            continue
        for kind in sorted(types - {"null"} - have[path]):
            problems.append(f"{path}: {kind} expected, got {sorted(have[path])}")
    return problems


def assert_same_shape(expected: Any, actual: Any, what: str) -> None:
    problems = missing_paths(expected, actual)
    if problems:
        print(f"{what}: {len(problems)} key paths missing or mistyped:")
        print("\n".join(problems))
    assert not problems, f"{what}: {problems[:10]}"


def next_data(html: bytes) -> Any:
    found = NEXT_DATA.search(html)
    assert found is not None, "no __NEXT_DATA__ script"
    return orjson.loads(found.group(1))


def load(name: str) -> Any:
    path: Path = recording(name)
    if name.endswith(".html"):
        return next_data(path.read_bytes())
    return orjson.loads(path.read_bytes())


def well_credited(catalog: Catalog, api: Callable[[str], Any]) -> Track:
    """An exclusive track with artists and remixers: keys that only some rows carry
    (remixers, exclusive_date...) are then in the mock's answers too."""
    for track in catalog.tracks:
        if track.remixers and api(f"/v4/catalog/tracks/{track.id}/")["exclusive"]:
            return track
    raise AssertionError("no exclusive remixed track in the catalog")


@pytest.fixture(scope="module")
def api(mock_server: str) -> Callable[[str], Any]:
    session = requests.Session()
    token = session.post(
        f"{mock_server}/v4/auth/o/token/",
        data={"grant_type": "client_credentials", "client_id": "t", "client_secret": "s"},
        timeout=TIMEOUT,
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"

    def get(path: str) -> Any:
        response = session.get(f"{mock_server}{path}", timeout=TIMEOUT)
        assert response.status_code == 200, (path, response.status_code, response.text[:200])
        return response.json()

    return get


def test_every_recording_is_checked() -> None:
    recorded = {p.name for p in RECORDINGS.iterdir() if p.is_file() and p.suffix != ".md"}
    assert recorded == set(CHECKED), "a recording without a format test (or a stale entry)"
    assert all(name in globals() for name in CHECKED.values())


def test_key_paths_unify_list_elements_and_tolerate_null() -> None:
    expected = {"a": [{"x": 1}, {"y": None}], "b": None}
    assert missing_paths(expected, {"a": [{"x": 2, "y": "s"}], "b": {"c": 1}}) == []
    assert missing_paths(expected, {"a": [{"x": "1"}]}) == [
        "a[].x: number expected, got ['string']",
        "a[].y: missing",
        "b: missing",
    ]


def test_api_track(api: Callable[[str], Any], mock_catalog: Catalog) -> None:
    track = well_credited(mock_catalog, api)
    got = api(f"/v4/catalog/tracks/{track.id}/")
    assert_same_shape(load("api-v4-track-19431036.json"), got, "track")


def test_api_release(api: Callable[[str], Any], mock_catalog: Catalog) -> None:
    release = next(t.release for t in mock_catalog.tracks if t.release.remixers)
    got = api(f"/v4/catalog/releases/{release.id}/")
    assert_same_shape(load("api-v4-release-4706244.json"), got, "release")


def test_api_search(api: Callable[[str], Any], mock_catalog: Catalog) -> None:
    track = well_credited(mock_catalog, api)
    query = f"{track.name} {track.remixers[0].name}"
    got = api(f"/v4/catalog/search/?q={query}&type=tracks&per_page=3")
    assert got["tracks"], "the search found nothing"
    assert_same_shape(load("api-v4-search-tracks-strobe.json"), got, "search")


def test_web_search_page(
    mock_server: str, mock_catalog: Catalog, api: Callable[[str], Any]
) -> None:
    track = well_credited(mock_catalog, api)
    response = requests.get(f"{mock_server}/search", params={"q": track.name}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert_same_shape(load("web-search-noisia.html"), next_data(response.content), "web search")


def test_web_track_page(mock_server: str, mock_catalog: Catalog, api: Callable[[str], Any]) -> None:
    track = well_credited(mock_catalog, api)
    response = requests.get(f"{mock_server}/track/{track.slug}/{track.id}", timeout=TIMEOUT)
    assert response.status_code == 200
    expected = load("web-track-page-next-data-6389004.json")
    assert_same_shape(expected, next_data(response.content), "web track page")


def test_next_data_route(
    mock_server: str, mock_catalog: Catalog, api: Callable[[str], Any]
) -> None:
    track = well_credited(mock_catalog, api)
    url = f"{mock_server}/_next/data/{BUILD_ID}/track/{track.slug}/{track.id}.json"
    response = requests.get(url, timeout=TIMEOUT)
    assert response.status_code == 200
    expected = load("web-next-data-route-194481.json")
    assert_same_shape(expected, response.json(), "_next/data route")
