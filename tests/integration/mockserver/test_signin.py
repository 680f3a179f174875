"""The mock's sign-in over real HTTP, step by step, as public Beatport clients do it: the docs
page's client id, login, the authorization code, the token, the refresh, and each refusal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mockserver.accounts import POST_MESSAGE_URI, PUBLIC_CLIENT
from mockserver.cli import build_parser, settings_from_args
from mockserver.errors import SpecError
from mockserver.settings import settings_from
from tests.integration.conftest import ServerFactory
from tests.integration.mockserver.test_api import FakeClock

TIMEOUT = 10
LOGIN = "/v4/auth/login/"
AUTHORIZE = "/v4/auth/o/authorize/"
TOKEN = "/v4/auth/o/token/"
DEMO = {"username": "demo", "password": "demo"}
ACCOUNTS_TOML = """\
[[account]]
username = "dj"
password = "correct horse"
email = "Dee.Jay@example.com"
first_name = "Dee"

[[account]]
username = "other"
password = "battery staple"
"""


def login(base: str, credentials: dict[str, str] = DEMO) -> requests.Session:
    """A session signed in (its cookie jar holds the session cookie)."""
    session = requests.Session()
    answer = session.post(f"{base}{LOGIN}", json=credentials, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return session


def authorize(session: requests.Session, base: str, **query: str) -> requests.Response:
    params = {"response_type": "code", "client_id": PUBLIC_CLIENT.client_id}
    params["redirect_uri"] = POST_MESSAGE_URI
    params.update(query)
    return session.get(f"{base}{AUTHORIZE}", params=params, allow_redirects=False, timeout=TIMEOUT)


def code_of(answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == POST_MESSAGE_URI
    return parse_qs(location.query)["code"][0]


def redeem(base: str, code: str, **query: str) -> requests.Response:
    params = {
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": POST_MESSAGE_URI,
        "client_id": PUBLIC_CLIENT.client_id,
    }
    params.update(query)
    # As beets-beatport4 sends it: every parameter in the query string, no body.
    return requests.post(f"{base}{TOKEN}", params=params, timeout=TIMEOUT)


def signed_in_token(base: str, credentials: dict[str, str] = DEMO) -> dict[str, Any]:
    answer = redeem(base, code_of(authorize(login(base, credentials), base)))
    assert answer.status_code == 200, answer.text
    token: dict[str, Any] = answer.json()
    return token


def account(base: str, access_token: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(f"{base}/v4/my/account/", headers=headers, timeout=TIMEOUT)


# -- the steps ---------------------------------------------------------------------------


def test_the_docs_page_links_a_script_that_publishes_the_client_id(mock_server: str) -> None:
    page = requests.get(f"{mock_server}/v4/docs/", timeout=TIMEOUT)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    (src,) = re.findall(r'<script src="([^"]+\.js)"', page.text)
    script = requests.get(f"{mock_server}{src}", timeout=TIMEOUT)
    assert script.headers["Content-Type"].startswith("application/javascript")
    assert re.findall(r"API_CLIENT_ID: '([^']+)'", script.text) == [PUBLIC_CLIENT.client_id]


def test_login_answers_the_account_and_sets_the_session_cookies(mock_server: str) -> None:
    answer = requests.post(f"{mock_server}{LOGIN}", json=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.json() == {"username": "demo", "email": "demo@example.com"}
    assert {"sessionid", "csrftoken"} <= set(answer.cookies.keys())
    session_cookie = next(c for c in answer.cookies if c.name == "sessionid")
    assert session_cookie.has_nonstandard_attr("HttpOnly") and session_cookie.path == "/"


def test_the_whole_flow_gives_a_token_for_the_signed_in_account(mock_server: str) -> None:
    token = signed_in_token(mock_server)
    assert token["expires_in"] == 36000
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "app:docs user:dj"
    assert token["access_token"] and token["refresh_token"]
    who = account(mock_server, token["access_token"])
    assert who.status_code == 200
    assert (who.json()["username"], who.json()["email"]) == ("demo", "demo@example.com")


def test_authorize_keeps_the_state_and_takes_a_missing_redirect_as_the_registered_one(
    mock_server: str,
) -> None:
    session = login(mock_server)
    answer = authorize(session, mock_server, state="xyz")
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["state"] == ["xyz"]
    # beatportdl sends no redirect_uri: the client's one registered URI is taken, and the
    # token request may then leave it out too.
    params = {"response_type": "code", "client_id": PUBLIC_CLIENT.client_id}
    bare = session.get(
        f"{mock_server}{AUTHORIZE}", params=params, allow_redirects=False, timeout=TIMEOUT
    )
    code = code_of(bare)
    answer = requests.post(
        f"{mock_server}{TOKEN}",
        data={"grant_type": "authorization_code", "code": code, "client_id": params["client_id"]},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 200, answer.text


def test_the_refresh_grant_gives_a_new_token_once_per_refresh_token(mock_server: str) -> None:
    first = signed_in_token(mock_server)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": PUBLIC_CLIENT.client_id,
    }
    second = requests.post(f"{mock_server}{TOKEN}", data=form, timeout=TIMEOUT)
    assert second.status_code == 200
    renewed = second.json()
    assert renewed["scope"] == "app:docs user:dj" and renewed["expires_in"] == 36000
    assert account(mock_server, renewed["access_token"]).json()["username"] == "demo"
    again = requests.post(f"{mock_server}{TOKEN}", data=form, timeout=TIMEOUT)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_the_e_mail_address_signs_in_too(mock_server: str) -> None:
    token = signed_in_token(mock_server, {"username": "DEMO@example.com", "password": "demo"})
    assert account(mock_server, token["access_token"]).json()["username"] == "demo"


# -- the refusals ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "demo", "password": "wrong"}, "non_field_errors"),
        ({"username": "nobody", "password": "demo"}, "non_field_errors"),
        ({"username": "demo"}, "password"),
        ({}, "username"),
    ],
    ids=["wrong-password", "unknown-user", "no-password", "nothing"],
)
def test_bad_credentials_get_an_error_body_and_no_session(
    mock_server: str, body: dict[str, str], field: str
) -> None:
    answer = requests.post(f"{mock_server}{LOGIN}", json=body, timeout=TIMEOUT)
    assert answer.status_code == 400
    error = answer.json()
    assert field in error and "username" not in error.keys() - {field} and "email" not in error
    assert "Set-Cookie" not in answer.headers


def test_a_login_body_that_is_not_json_is_a_400(mock_server: str) -> None:
    answer = requests.post(
        f"{mock_server}{LOGIN}",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert answer.status_code == 400 and "detail" in answer.json()


def test_a_login_form_works_like_json(mock_server: str) -> None:
    answer = requests.post(f"{mock_server}{LOGIN}", data=DEMO, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.json()["username"] == "demo"


@pytest.mark.parametrize(
    ("query", "explanation"),
    [
        ({"client_id": "no-such-client"}, "Invalid client_id parameter value."),
        ({"client_id": ""}, "Missing client_id parameter."),
        ({"redirect_uri": "https://evil.example/steal"}, "Mismatching redirect URI."),
    ],
    ids=["unknown-client", "no-client", "other-redirect"],
)
def test_authorize_refuses_an_unknown_client_or_redirect_with_an_html_page(
    mock_server: str, query: dict[str, str], explanation: str
) -> None:
    answer = authorize(login(mock_server), mock_server, **query)
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "invalid_request" in answer.text
    assert re.findall(r"<p>(.*)</p>", answer.text) == [explanation]
    assert "Location" not in answer.headers


def test_authorize_without_a_session_sends_to_the_login(mock_server: str) -> None:
    answer = authorize(requests.Session(), mock_server)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(f"{LOGIN}?next=%2Fv4%2Fauth%2Fo%2Fauthorize%2F")
    assert "code" not in parse_qs(urlsplit(answer.headers["Location"]).query)


@pytest.mark.parametrize(
    ("response_type", "error"),
    [("token", "unsupported_response_type"), ("", "invalid_request")],
)
def test_a_response_type_other_than_code_is_redirected_with_an_error(
    mock_server: str, response_type: str, error: str
) -> None:
    answer = authorize(login(mock_server), mock_server, response_type=response_type)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == [error] and "code" not in query


def test_a_code_is_spent_by_its_first_use(mock_server: str) -> None:
    code = code_of(authorize(login(mock_server), mock_server))
    assert redeem(mock_server, code).status_code == 200
    reused = redeem(mock_server, code)
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid authorization code.",
    }


def test_a_code_expires_after_a_minute(mock_server_factory: ServerFactory) -> None:
    clock = FakeClock()
    base = mock_server_factory(clock=clock, catalog_size=300).base_url
    fresh = code_of(authorize(login(base), base))
    stale = code_of(authorize(login(base), base))
    clock.now += 59
    assert redeem(base, fresh).status_code == 200
    clock.now += 1
    answer = redeem(base, stale)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_the_token_request_must_name_the_same_redirect_uri(mock_server: str) -> None:
    code = code_of(authorize(login(mock_server), mock_server))
    answer = redeem(mock_server, code, redirect_uri="https://api.beatport.com/elsewhere/")
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "Mismatching redirect URI.",
    }
    assert redeem(mock_server, code).status_code == 400  # the failed attempt spent it


def test_the_token_request_of_an_unknown_client_is_refused(mock_server: str) -> None:
    code = code_of(authorize(login(mock_server), mock_server))
    answer = redeem(mock_server, code, client_id="no-such-client")
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert redeem(mock_server, code).status_code == 200  # an unknown client spends nothing


def test_a_refresh_token_expires_and_belongs_to_its_client(
    mock_server_factory: ServerFactory,
) -> None:
    clock = FakeClock()
    base = mock_server_factory(clock=clock, catalog_size=300, refresh_token_ttl=3600).base_url
    first, second = signed_in_token(base), signed_in_token(base)
    form = {"grant_type": "refresh_token", "client_id": "another-client"}
    other = requests.post(
        f"{base}{TOKEN}", data=form | {"refresh_token": first["refresh_token"]}, timeout=TIMEOUT
    )
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    clock.now += 3600
    form["client_id"] = PUBLIC_CLIENT.client_id
    for token in (first, second):
        expired = requests.post(
            f"{base}{TOKEN}", data=form | {"refresh_token": token["refresh_token"]}, timeout=TIMEOUT
        )
        assert expired.status_code == 400 and expired.json()["error"] == "invalid_grant"


# -- accounts ----------------------------------------------------------------------------


def test_an_accounts_file_replaces_the_demo_account(
    mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(ACCOUNTS_TOML, encoding="utf-8")
    args = build_parser().parse_args(["serve", "--accounts", str(path), "--port", "0"])
    settings = settings_from_args(args)
    base = mock_server_factory(catalog_size=300, accounts=settings.accounts).base_url
    refused = requests.post(f"{base}{LOGIN}", json=DEMO, timeout=TIMEOUT)
    assert refused.status_code == 400
    token = signed_in_token(base, {"username": "dj", "password": "correct horse"})
    profile = account(base, token["access_token"]).json()
    assert profile["username"] == "dj" and profile["email"] == "Dee.Jay@example.com"
    assert profile["first_name"] == "Dee" and profile["last_name"] == "User"
    other = signed_in_token(base, {"username": "other", "password": "battery staple"})
    assert account(base, other["access_token"]).json()["email"] == "other@example.com"
    assert profile["id"] != account(base, other["access_token"]).json()["id"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "expected one [[account]] table or more"),
        ('[[account]]\nusername = "x"\n', "password must be a non-empty string"),
        ('[[account]]\nusername = "x"\npassword = "y"\nrole = "admin"\n', "unknown key 'role'"),
        ('[[account]]\nusername = "x"\npassword = "y"\n' * 2, "username 'x' is given twice"),
        ("[[account]\n", "not valid TOML"),
    ],
)
def test_a_bad_accounts_file_names_the_option_the_file_and_the_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        settings_from({}, {"accounts": str(path)})
    assert raised.value.option == "--accounts"
    assert str(path) in str(raised.value) and problem in str(raised.value)


def test_accounts_in_the_config_file_are_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "people.toml").write_text(ACCOUNTS_TOML, encoding="utf-8")
    (tmp_path / "mock.toml").write_text('accounts = "people.toml"\n', encoding="utf-8")
    args = build_parser().parse_args(["serve", "--config", str(tmp_path / "mock.toml")])
    assert [a.username for a in settings_from_args(args).accounts] == ["dj", "other"]
    assert "correct horse" not in repr(settings_from_args(args))  # passwords stay out of reprs
    with pytest.raises(SpecError, match="cannot read"):
        settings_from({}, {"accounts": str(tmp_path / "missing.toml")})
