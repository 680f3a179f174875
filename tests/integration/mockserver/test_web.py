"""The mock's website over real HTTP: search and track pages, `_next/data`, sizes, 404s."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
import requests

from mockserver.catalog import Catalog
from mockserver.model import Track
from mockserver.render_web import BUILD_ID

TIMEOUT = 10
KB = 1000
SCRIPT_OPEN = b'<script id="__NEXT_DATA__" type="application/json">'


def next_data(html: bytes) -> Any:
    """Find the script with bytes.find and decode it, as a fast client would."""
    start = html.find(SCRIPT_OPEN)
    assert start >= 0, "no __NEXT_DATA__ script"
    start += len(SCRIPT_OPEN)
    return orjson.loads(html[start : html.find(b"</script>", start)])


def first_query(data: Any) -> Any:
    return data["props"]["pageProps"]["dehydratedState"]["queries"][0]


def a_track(catalog: Catalog) -> Track:
    return next(t for t in catalog.tracks if t.remixers)


def test_search_tracks_page(mock_server: str, mock_catalog: Catalog) -> None:
    track = a_track(mock_catalog)
    response = requests.get(
        f"{mock_server}/search/tracks", params={"q": track.name}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert 100 * KB <= len(response.content) <= 250 * KB, len(response.content)
    data = next_data(response.content)
    assert data["page"] == "/search/tracks"
    rows = first_query(data)["state"]["data"]["tracks"]["data"]
    assert 0 < len(rows) <= 25
    row = next(r for r in rows if r["track_id"] == track.id)
    assert row["track_name"] == track.name  # the bare name; the mix is apart
    assert row["mix_name"] == track.mix_name
    assert row["length"] == track.length_ms
    assert row["key_name"] == track.key.name
    assert row["label"]["label_name"] == track.release.label.name
    people = [(a["artist_name"], a["artist_type_name"]) for a in row["artists"]]
    expected = [(a.name, "Artist") for a in track.artists]
    assert people == expected + [(a.name, "Remixer") for a in track.remixers]
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_search_tracks_page_size_parameters(mock_server: str) -> None:
    url = f"{mock_server}/search/tracks"
    page = requests.get(url, params={"q": "mix", "per_page": "10", "page": "2"}, timeout=TIMEOUT)
    data = first_query(next_data(page.content))["state"]["data"]["tracks"]
    assert (len(data["data"]), data["page"], data["per_page"]) == (10, 2, 10)
    # Nonsense falls back to the defaults, as on the real site.
    lenient = requests.get(url, params={"q": "mix", "per_page": "lots"}, timeout=TIMEOUT)
    assert lenient.status_code == 200
    assert first_query(next_data(lenient.content))["state"]["data"]["tracks"]["per_page"] == 25


def test_search_all_page(mock_server: str, mock_catalog: Catalog) -> None:
    track = a_track(mock_catalog)
    response = requests.get(f"{mock_server}/search", params={"q": track.name}, timeout=TIMEOUT)
    assert 100 * KB <= len(response.content) <= 250 * KB, len(response.content)
    data = next_data(response.content)
    query = first_query(data)
    assert query["queryKey"] == [
        f"search-all-q={track.name}&count=15&is_approved=true&preorder=true"
    ]
    found = query["state"]["data"]
    assert set(found) == {"tracks", "artists", "charts", "labels", "releases"}
    assert all(len(found[kind]["data"]) <= 15 for kind in found)
    assert found["tracks"]["data"] and found["artists"]["data"] and found["labels"]["data"]
    assert data["props"]["pageProps"]["query"] == track.name


def test_track_page(mock_server: str, mock_catalog: Catalog) -> None:
    track = a_track(mock_catalog)
    response = requests.get(f"{mock_server}/track/{track.slug}/{track.id}", timeout=TIMEOUT)
    assert response.status_code == 200
    assert 100 * KB <= len(response.content) <= 250 * KB, len(response.content)
    data = next_data(response.content)
    query = first_query(data)
    assert query["queryHash"] == f'["track-{track.id}"]'
    props = data["props"]["pageProps"]
    assert props["track"] == query["state"]["data"]
    assert props["track"]["id"] == track.id
    assert props["track"]["key"]["camelot_letter"] == track.key.camelot_letter
    assert data["query"] == {"description": track.slug, "id": str(track.id)}


def test_wrong_slug_still_serves_the_track(mock_server: str, mock_catalog: Catalog) -> None:
    track = a_track(mock_catalog)
    response = requests.get(f"{mock_server}/track/not-the-slug/{track.id}", timeout=TIMEOUT)
    assert response.status_code == 200
    assert next_data(response.content)["props"]["pageProps"]["track"]["id"] == track.id


@pytest.mark.parametrize("path", ["/track/x/999999999", "/track/x/abc", "/no/such/page"])
def test_unknown_pages_are_404(mock_server: str, path: str) -> None:
    response = requests.get(f"{mock_server}{path}", timeout=TIMEOUT)
    assert response.status_code == 404


def test_unknown_track_id_serves_the_404_page(mock_server: str) -> None:
    response = requests.get(f"{mock_server}/track/x/999999999", timeout=TIMEOUT)
    assert response.headers["Content-Type"].startswith("text/html")
    assert next_data(response.content)["page"] == "/_error"


def test_next_data_route(mock_server: str, mock_catalog: Catalog) -> None:
    track = a_track(mock_catalog)
    page = requests.get(f"{mock_server}/track/{track.slug}/{track.id}", timeout=TIMEOUT)
    build_id = next_data(page.content)["buildId"]
    assert build_id == BUILD_ID
    url = f"{mock_server}/_next/data/{build_id}/track/{track.slug}/{track.id}.json"
    body = requests.get(url, timeout=TIMEOUT).json()
    assert body["__N_SSP"] is True
    assert body["pageProps"]["track"]["id"] == track.id
    stale = requests.get(url.replace(build_id, "stale-build"), timeout=TIMEOUT)
    assert stale.status_code == 404


def test_query_text_cannot_break_out_of_the_script(mock_server: str) -> None:
    evil = '</script><script>alert("x")</script>'
    response = requests.get(f"{mock_server}/search", params={"q": evil}, timeout=TIMEOUT)
    html = response.content
    assert b"<script>alert" not in html
    assert len(re.findall(rb"<script", html)) == 1
    assert next_data(html)["props"]["pageProps"]["query"] == evil
