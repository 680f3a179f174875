"""The mock's API v4 over real HTTP: tokens, 401s, redirects, 404s, search and lists."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mockserver.catalog import Catalog
from mockserver.model import Track
from tests.integration.conftest import ServerFactory

TIMEOUT = 10
CREDENTIALS = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def get_token(base_url: str, **form: str) -> dict[str, Any]:
    response = requests.post(
        f"{base_url}/v4/auth/o/token/", data=form or CREDENTIALS, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def api(mock_server: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {get_token(mock_server)['access_token']}"
    return session


def a_track_with_remixers(catalog: Catalog) -> Track:
    return next(t for t in catalog.tracks if t.remixers)


# -- auth -------------------------------------------------------------------------------


def test_client_credentials_and_password_grants(mock_server: str) -> None:
    token = get_token(mock_server)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 36000  # as api.beatport.com's (10 hours)
    assert {"access_token", "scope", "refresh_token"} <= token.keys()
    other = get_token(
        mock_server, grant_type="password", username="dj", password="pw", client_id="c"
    )
    assert other["access_token"] != token["access_token"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials", "client_secret": "s"}, "invalid_request"),
        ({"grant_type": "password", "username": "dj", "client_id": "c"}, "invalid_request"),
        ({"client_id": "id", "client_secret": "s"}, "invalid_request"),
        ({"grant_type": "implicit", "client_id": "id"}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "refresh_token": "never-issued"}, "invalid_grant"),
    ],
)
def test_bad_token_requests_are_400(mock_server: str, form: dict[str, str], error: str) -> None:
    response = requests.post(f"{mock_server}/v4/auth/o/token/", data=form, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_refresh_token_grant_issues_a_working_token(mock_server: str) -> None:
    first = get_token(mock_server)
    second = get_token(
        mock_server, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert requests.get(f"{mock_server}/v4/my/account/", headers=headers, timeout=TIMEOUT).ok


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        (None, "Authentication credentials were not provided."),
        ("Basic dXNlcjpwdw==", "Authentication credentials were not provided."),
        ("Bearer not-a-token", "Invalid token."),
    ],
)
def test_api_routes_need_a_token(mock_server: str, header: str | None, detail: str) -> None:
    headers = {} if header is None else {"Authorization": header}
    for path in ("/v4/my/account/", "/v4/catalog/search/?q=a", "/v4/catalog/tracks/1/"):
        response = requests.get(f"{mock_server}{path}", headers=headers, timeout=TIMEOUT)
        assert response.status_code == 401, path
        assert response.json() == {"detail": detail}


def test_tokens_expire_after_the_ttl(mock_server_factory: ServerFactory) -> None:
    clock = FakeClock()
    server = mock_server_factory(clock=clock, token_ttl=60)
    token = get_token(server.base_url)
    assert token["expires_in"] == 60
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    url = f"{server.base_url}/v4/my/account/"
    clock.now += 59
    assert requests.get(url, headers=headers, timeout=TIMEOUT).status_code == 200
    clock.now += 1
    expired = requests.get(url, headers=headers, timeout=TIMEOUT)
    assert expired.status_code == 401
    assert expired.json() == {"detail": "Token has expired."}


def test_account(api: requests.Session, mock_server: str) -> None:
    account = api.get(f"{mock_server}/v4/my/account/", timeout=TIMEOUT).json()
    assert {"id", "username", "email"} <= account.keys()


# -- paths ------------------------------------------------------------------------------


def test_missing_trailing_slash_is_a_301_keeping_the_query(
    api: requests.Session, mock_server: str
) -> None:
    response = api.get(
        f"{mock_server}/v4/catalog/search?q=deep&per_page=2", allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "/v4/catalog/search/?q=deep&per_page=2"
    followed = api.get(f"{mock_server}/v4/catalog/search?q=deep&per_page=2", timeout=TIMEOUT)
    assert followed.status_code == 200
    assert followed.json()["per_page"] == 2


@pytest.mark.parametrize(
    "path",
    ["/v4/catalog/tracks/999999999/", "/v4/catalog/releases/999999999/", "/v4/nothing/here/"],
)
def test_unknown_ids_and_paths_are_json_404s(
    api: requests.Session, mock_server: str, path: str
) -> None:
    response = api.get(f"{mock_server}{path}", timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_unknown_path_without_slash_is_a_404_not_a_redirect(
    api: requests.Session, mock_server: str
) -> None:
    response = api.get(f"{mock_server}/v4/nothing", allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 404


# -- catalog ----------------------------------------------------------------------------


def test_track_and_release_details(
    api: requests.Session, mock_server: str, mock_catalog: Catalog
) -> None:
    track = a_track_with_remixers(mock_catalog)
    got = api.get(f"{mock_server}/v4/catalog/tracks/{track.id}/", timeout=TIMEOUT).json()
    assert (got["id"], got["name"], got["mix_name"], got["bpm"]) == (
        track.id,
        track.name,
        track.mix_name,
        track.bpm,
    )
    assert got["key"]["camelot_number"] == track.key.camelot_number
    assert got["release"]["label"]["name"] == track.release.label.name
    assert "label" not in got
    assert [r["name"] for r in got["remixers"]] == [r.name for r in track.remixers]
    release = api.get(f"{mock_server}/v4/catalog/releases/{track.release.id}/", timeout=TIMEOUT)
    assert release.json()["track_count"] == len(track.release.track_ids)


def test_release_tracks_are_paginated(
    api: requests.Session, mock_server: str, mock_catalog: Catalog
) -> None:
    release = next(t.release for t in mock_catalog.tracks if len(t.release.track_ids) >= 3)
    url = f"{mock_server}/v4/catalog/releases/{release.id}/tracks/?per_page=2"
    first = api.get(url, timeout=TIMEOUT).json()
    assert first["count"] == len(release.track_ids)
    assert [t["id"] for t in first["results"]] == list(release.track_ids[:2])
    assert first["previous"] is None
    second = api.get(f"http://{first['next']}", timeout=TIMEOUT).json()
    assert [t["id"] for t in second["results"]] == list(release.track_ids[2:4])
    assert second["page"].startswith("2/")


def test_search_pagination(api: requests.Session, mock_server: str) -> None:
    host = mock_server.removeprefix("http://")
    url = f"{mock_server}/v4/catalog/search/?q=mix&type=tracks&per_page=3"
    first = api.get(url, timeout=TIMEOUT).json()
    assert first["order"] == ["tracks"]
    assert len(first["tracks"]) == 3
    pages = -(-first["count"] // 3)
    assert first["page"] == f"1/{pages}"
    assert first["next"] == f"{host}/v4/catalog/search/?q=mix&type=tracks&page=2&per_page=3"
    assert first["previous"] is None
    second = api.get(f"http://{first['next']}", timeout=TIMEOUT).json()
    assert second["page"] == f"2/{pages}"
    assert second["previous"] == f"{host}/v4/catalog/search/?q=mix&type=tracks&page=1&per_page=3"
    assert {t["id"] for t in first["tracks"]}.isdisjoint(t["id"] for t in second["tracks"])


def test_search_releases(api: requests.Session, mock_server: str, mock_catalog: Catalog) -> None:
    release = mock_catalog.tracks[0].release
    url = f"{mock_server}/v4/catalog/search/"
    got = api.get(url, params={"q": release.name, "type": "releases"}, timeout=TIMEOUT).json()
    assert got["order"] == ["releases"]
    assert release.id in [r["id"] for r in got["releases"]]
    assert got["per_page"] == 25


@pytest.mark.parametrize(
    "query",
    ["per_page=0", "per_page=101", "per_page=many", "page=0", "page=x", "type=labels"],
)
def test_bad_search_parameters_are_400(api: requests.Session, mock_server: str, query: str) -> None:
    response = api.get(f"{mock_server}/v4/catalog/search/?q=a&{query}", timeout=TIMEOUT)
    assert response.status_code == 400
    field = query.split("=")[0]
    assert isinstance(response.json()[field], list)


def test_page_past_the_end_is_404(api: requests.Session, mock_server: str) -> None:
    url = f"{mock_server}/v4/catalog/search/?q=mix&page=100000&per_page=100"
    response = api.get(url, timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


def test_track_list_filters(api: requests.Session, mock_server: str, mock_catalog: Catalog) -> None:
    track = a_track_with_remixers(mock_catalog)
    url = f"{mock_server}/v4/catalog/tracks/"
    by_isrc = api.get(url, params={"isrc": track.isrc}, timeout=TIMEOUT).json()
    assert track.id in [t["id"] for t in by_isrc["results"]]
    assert all(t["isrc"] == track.isrc for t in by_isrc["results"])
    params = {"name": track.name, "artist_name": track.artists[0].name, "mix_name": track.mix_name}
    filtered = api.get(url, params={**params, "per_page": "100"}, timeout=TIMEOUT).json()
    expected = mock_catalog.find_tracks(**params)
    assert filtered["count"] == len(expected)
    assert track.id in [t["id"] for t in filtered["results"]]
    everything = api.get(url, params={"per_page": "1"}, timeout=TIMEOUT).json()
    assert everything["count"] == len(mock_catalog.find_tracks())


# -- a real v4 client -------------------------------------------------------------------


def test_a_v4_client_works_unchanged(mock_server: str, mock_catalog: Catalog) -> None:
    """Drive the mock as beets-beatport4 / OneTagger drive api.beatport.com: token, search,
    follow `next` by prefixing the scheme, then track and release details."""
    session = requests.Session()
    token = session.post(
        f"{mock_server}/v4/auth/o/token/",
        data={"grant_type": "password", "username": "u", "password": "p", "client_id": "c"},
        timeout=TIMEOUT,
    ).json()
    session.headers["Authorization"] = f"{token['token_type']} {token['access_token']}"
    wanted = a_track_with_remixers(mock_catalog)
    query = f"{wanted.artists[0].name} {wanted.name}"
    url: str | None = f"{mock_server}/v4/catalog/search/?q={query}&type=tracks&per_page=10"
    seen: list[dict[str, Any]] = []
    while url is not None and len(seen) < 30:
        page = session.get(url, timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        body = page.json()
        seen.extend(body["tracks"])
        url = None if body["next"] is None else "http://" + body["next"]
    assert wanted.id in [t["id"] for t in seen]
    detail = session.get(f"{mock_server}/v4/catalog/tracks/{wanted.id}/", timeout=TIMEOUT).json()
    assert detail["isrc"] == wanted.isrc
    release_id = detail["release"]["id"]
    release = session.get(f"{mock_server}/v4/catalog/releases/{release_id}/", timeout=TIMEOUT)
    tracks = session.get(
        f"{mock_server}/v4/catalog/releases/{release_id}/tracks/", timeout=TIMEOUT
    ).json()
    assert release.json()["name"] == wanted.release.name
    assert wanted.id in [t["id"] for t in tracks["results"]]
