"""Signing in to Beatport as its public clients do, and asking who a token belongs to.

Beatport gives ordinary accounts neither the client-credentials nor the password grant.
What works (beets-beatport4, beatportdl) is what its API docs page does in a browser:

1. find the public client id in a script the docs page (`/v4/docs/`) links
   (`API_CLIENT_ID: '...'`), unless one is given;
2. `POST /v4/auth/login/` with the username and password as JSON: session cookies;
3. `GET /v4/auth/o/authorize/?response_type=code&client_id=...&redirect_uri=...` with that
   session, not following the redirect: its Location carries `?code=...`;
4. `POST /v4/auth/o/token/?code=...&grant_type=authorization_code&redirect_uri=...&client_id=...`:
   the access token, its lifetime and a refresh token.

This is shell code (requests). The password is sent once and kept nowhere; no message
carries the password, the code or a token.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from cratedigger.credentials import DEFAULT_CLIENT_ID, TOKEN_PATH, Credentials, renewal_time
from cratedigger.errors import CratediggerError
from cratedigger.tokenstore import StoredToken
from cratedigger.transport import USER_AGENT

__all__ = [
    "POST_MESSAGE_URI",
    "SignInError",
    "SignInExpired",
    "account",
    "discover_client_id",
    "due",
    "refresh",
    "sign_in",
]

POST_MESSAGE_URI = "https://api.beatport.com/v4/auth/o/post-message/"
DOCS_PATH = "/v4/docs/"
LOGIN_PATH = "/v4/auth/login/"
AUTHORIZE_PATH = "/v4/auth/o/authorize/"
ACCOUNT_PATH = "/v4/my/account/"
_SCRIPT_SRC = re.compile(r"""<script[^>]*\ssrc\s*=\s*["']([^"']+\.js)(?:\?[^"']*)?["']""", re.I)
_CLIENT_ID = re.compile(r"""API_CLIENT_ID\s*:\s*["']([^"']+)["']""")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_MAX_SCRIPTS = 10
_MAX_REASON = 200


class SignInError(CratediggerError):
    """Signing in failed; the message says at which step and why, with no secret in it."""


class SignInExpired(SignInError):
    """The server refused to renew a stored sign-in: the user must sign in again."""


def _reason(text: str, secrets: Iterable[str] = ()) -> str:
    """A server's explanation as one short line, with no secret of ours in it."""
    line = " ".join(html.unescape(text).split())
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line[:_MAX_REASON] + ("..." if len(line) > _MAX_REASON else "")


def _error_text(answer: requests.Response) -> str:
    """What a DRF or OAuth error body says (`detail`, `error_description`, field errors)."""
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {answer.status_code}"
    for key in ("error_description", "detail", "error"):
        if isinstance(body.get(key), str):
            return str(body[key])
    messages = []
    for key, value in body.items():
        items = value if isinstance(value, list) else [value]
        words = "; ".join(str(item) for item in items if isinstance(item, str))
        if words:
            messages.append(words if key == "non_field_errors" else f"{key}: {words}")
    return ", ".join(messages) or f"HTTP {answer.status_code}"


class _Http:
    """One requests session for a sign-in: its cookies, its timeout, errors made plain."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def __enter__(self) -> _Http:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.session.close()

    def call(self, step: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        if url.startswith("/"):
            url = self.base + url
        try:
            return self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.RequestException as error:
            raise SignInError(
                f"{step}: cannot reach {self.base} ({type(error).__name__})"
            ) from None


def discover_client_id(http: _Http) -> str:
    """The public client id Beatport's docs page publishes in one of its scripts."""
    page = http.call("finding the client id", "GET", DOCS_PATH)
    where = f"{http.base}{DOCS_PATH}"
    if page.status_code != 200:
        raise SignInError(f"finding the client id: {where} answered HTTP {page.status_code}")
    for src in _SCRIPT_SRC.findall(page.text)[:_MAX_SCRIPTS]:
        script = http.call("finding the client id", "GET", urljoin(where, src))
        found = _CLIENT_ID.search(script.text) if script.status_code == 200 else None
        if found:
            return found[1]
    raise SignInError(
        f"finding the client id: no script of {where} names an API_CLIENT_ID; "
        "give it with --client-id"
    )


def sign_in(
    base_url: str,
    username: str,
    password: str,
    *,
    client_id: str | None = None,
    timeout: float = 10.0,
    wall_clock: Callable[[], float] = time.time,
) -> StoredToken:
    """Sign in with a username (or e-mail address) and password: the token to store."""
    secrets: tuple[str, ...] = (password,)
    with _Http(base_url, timeout) as http:
        client_id = client_id or discover_client_id(http)
        login = http.call(
            "signing in", "POST", LOGIN_PATH, json={"username": username, "password": password}
        )
        try:
            who = login.json()
        except ValueError:
            who = None
        if not isinstance(who, dict) or "username" not in who or "email" not in who:
            why = _reason(_error_text(login), secrets)
            raise SignInError(f"signing in: Beatport refused the sign-in: {why}")
        code = _authorization_code(http, client_id)
        secrets += (code,)
        params = {
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": POST_MESSAGE_URI,
            "client_id": client_id,
        }
        answer = http.call("getting the token", "POST", TOKEN_PATH, params=params)
        token = _token_answer(answer, "getting the token", secrets)
        return StoredToken.issued(
            token, client_id, wall_clock(), str(who["username"]), str(who["email"])
        )


def _authorization_code(http: _Http, client_id: str) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": POST_MESSAGE_URI}
    answer = http.call("authorizing", "GET", AUTHORIZE_PATH, params=params)
    if "invalid_request" in answer.text:
        explained = _PARAGRAPH.findall(answer.text)
        why = _reason(explained[0] if explained else "invalid_request")
        raise SignInError(f"authorizing: Beatport refused the authorization: {why}")
    location = answer.headers.get("Location", "")
    query = parse_qs(urlsplit(location).query)
    if answer.status_code in (301, 302, 303, 307) and query.get("code"):
        return query["code"][0]
    if query.get("error"):
        error = query.get("error_description", query["error"])[0]
        raise SignInError(f"authorizing: Beatport refused the authorization: {_reason(error)}")
    if urlsplit(location).path.rstrip("/").endswith("login"):
        raise SignInError("authorizing: Beatport did not keep the signed-in session")
    status = answer.status_code
    raise SignInError(f"authorizing: Beatport gave no authorization code (HTTP {status})")


def _token_answer(answer: requests.Response, step: str, secrets: Iterable[str]) -> dict[str, Any]:
    if 400 <= answer.status_code < 500:
        why = _reason(_error_text(answer), secrets)
        raise SignInError(f"{step}: Beatport refused: {why}")
    if answer.status_code != 200:
        raise SignInError(f"{step}: the token endpoint answered HTTP {answer.status_code}")
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise SignInError(f"{step}: the token endpoint answered no access_token")
    return body


def refresh(
    base_url: str,
    stored: StoredToken,
    *,
    timeout: float = 10.0,
    wall_clock: Callable[[], float] = time.time,
) -> StoredToken:
    """Renew a stored sign-in with its refresh token; SignInExpired if the server refuses."""
    if not stored.refresh_token:
        raise SignInExpired("the stored sign-in has no refresh token")
    request = Credentials(client_id=stored.client_id or DEFAULT_CLIENT_ID).refresh_request(
        stored.refresh_token
    )
    with _Http(base_url, timeout) as http:
        form = dict(request.form or ())
        answer = http.call("renewing the token", "POST", request.path, data=form)
    if 400 <= answer.status_code < 500:
        raise SignInExpired("the server refused to renew the token")
    body = _token_answer(answer, "renewing the token", (stored.refresh_token,))
    lifetime = body.get("expires_in")
    lifetime = float(lifetime) if isinstance(lifetime, int | float) else None
    new_refresh = body.get("refresh_token")
    return stored.renewed(
        str(body["access_token"]),
        new_refresh if isinstance(new_refresh, str) else None,
        lifetime,
        wall_clock(),
    )


def due(stored: StoredToken, now: float) -> bool:
    """Whether a stored token should be renewed before use (it expires within the margin)."""
    if stored.expires_at is None:
        return False
    return now >= renewal_time(stored.expires_at, stored.lifetime or 0.0)


def account(base_url: str, token: str, *, timeout: float = 10.0) -> Mapping[str, Any] | None:
    """Who `token` belongs to (/v4/my/account/); None if the server refuses the token."""
    with _Http(base_url, timeout) as http:
        answer = http.call(
            "asking who is signed in",
            "GET",
            ACCOUNT_PATH,
            headers={"Authorization": f"Bearer {token}"},
        )
    if answer.status_code == 401:
        return None
    if answer.status_code != 200:
        raise SignInError(f"asking who is signed in: {base_url} answered HTTP {answer.status_code}")
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise SignInError("asking who is signed in: the answer is not an account")
    return body
