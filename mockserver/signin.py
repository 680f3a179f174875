"""Signing in as real clients do: login, authorization code, the docs page's client id.

What public Beatport clients do today (beets-beatport4, beatportdl), the mock serves:

1. `POST /v4/auth/login/` with JSON `{"username", "password"}` (the e-mail address works as
   the username too): 200 with the account's `username` and `email`, and the session
   cookies `sessionid` and `csrftoken`; bad credentials give a 400 whose body has neither.
2. `GET /v4/auth/o/authorize/?response_type=code&client_id=ID&redirect_uri=URI` with that
   session: a 302 whose Location is `URI?code=...`. An unknown client or redirect URI gives
   Django OAuth Toolkit's HTML error page (`Error: invalid_request` and a `<p>` saying why);
   without a session, a 302 to the login. Codes are single-use and live `code_ttl` seconds.
3. `POST /v4/auth/o/token/?code=...&grant_type=authorization_code&redirect_uri=...&client_id=ID`
   (`mockserver.auth`) redeems the code through `SignIn.redeem`.
4. `GET /v4/docs/` links a script whose text carries `API_CLIENT_ID: '...'`.

Time comes from the server's injected clock, so tests can expire codes and sessions.
"""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import orjson
from aiohttp import web

from mockserver.accounts import PUBLIC_CLIENT, Account, Accounts, ClientApp
from mockserver.auth import GrantError, json_response, oauth_token
from mockserver.routing import Params, Route

__all__ = [
    "AUTHORIZE_PATH",
    "DOCS_PATH",
    "DOCS_SCRIPT_PATH",
    "LOGIN_PATH",
    "SignIn",
    "signin_routes",
]

LOGIN_PATH: Final = "/v4/auth/login/"
AUTHORIZE_PATH: Final = "/v4/auth/o/authorize/"
DOCS_PATH: Final = "/v4/docs/"
DOCS_SCRIPT_PATH: Final = "/v4/docs/static/js/main.8c1f2a7e.js"
CODE_TTL: Final = 60.0  # Django OAuth Toolkit's default
SESSION_TTL: Final = 14 * 24 * 3600.0  # Django's default session age
CSRF_AGE: Final = 31_449_600  # Django's CSRF cookie age, seconds
MAX_PENDING: Final = 100_000  # sessions or codes kept before expired ones are dropped
BAD_CREDENTIALS: Final = "Unable to log in with provided credentials."


@dataclass(frozen=True, slots=True)
class _Code:
    username: str
    client_id: str
    redirect_uri: str
    explicit_redirect: bool  # the authorize request named it: the token request must too
    expires_at: float


class SignIn:
    """The sign-in state: accounts, sessions, and the authorization codes not yet redeemed."""

    def __init__(
        self,
        accounts: Accounts,
        clock: Callable[[], float],
        *,
        clients: tuple[ClientApp, ...] = (PUBLIC_CLIENT,),
        code_ttl: float = CODE_TTL,
        session_ttl: float = SESSION_TTL,
    ) -> None:
        self.accounts = accounts
        self.clients = {client.client_id: client for client in clients}
        self._clock = clock
        self.code_ttl = code_ttl
        self.session_ttl = session_ttl
        self._sessions: dict[str, tuple[str, float]] = {}
        self._codes: dict[str, _Code] = {}

    @property
    def public_client(self) -> ClientApp:
        """The client the docs page publishes."""
        return next(iter(self.clients.values()))

    def login(self, login: str, password: str) -> Account | None:
        """The account these credentials open, or None."""
        account = self.accounts.find(login)
        # Compared in constant time, and even for an unknown login, as Django does.
        expected = account.password if account is not None else "\0"
        ok = hmac.compare_digest(password.encode(), expected.encode())
        return account if ok and account is not None else None

    def open_session(self, account: Account) -> str:
        """A new session id for `account`."""
        now = self._clock()
        if len(self._sessions) >= MAX_PENDING:
            self._sessions = {k: v for k, v in self._sessions.items() if v[1] > now}
        session = secrets.token_hex(16)
        self._sessions[session] = (account.username, now + self.session_ttl)
        return session

    def session_account(self, session: str | None) -> Account | None:
        """The account a live session id belongs to."""
        found = self._sessions.get(session or "")
        if found is None or self._clock() >= found[1]:
            return None
        return self.accounts.get(found[0])

    def issue_code(self, account: Account, client: ClientApp, redirect: str, explicit: bool) -> str:
        """A single-use authorization code for `account` through `client`."""
        now = self._clock()
        if len(self._codes) >= MAX_PENDING:
            self._codes = {k: c for k, c in self._codes.items() if c.expires_at > now}
        code = oauth_token()
        self._codes[code] = _Code(
            account.username, client.client_id, redirect, explicit, now + self.code_ttl
        )
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str | None) -> str | GrantError:
        """The username a code was issued to, spending the code; or the token endpoint's
        error: an unknown client, a code unknown, spent or expired, another redirect URI."""
        if client_id not in self.clients:
            return GrantError("invalid_client", "Invalid client_id parameter value.", 401)
        issued = self._codes.get(code)
        if issued is None or issued.client_id != client_id:
            return GrantError("invalid_grant", "Invalid authorization code.")
        del self._codes[code]  # a code is spent by any attempt, as OAuth 2.0 asks
        if self._clock() >= issued.expires_at:
            return GrantError("invalid_grant", "Invalid authorization code.")
        if (redirect_uri or issued.explicit_redirect) and redirect_uri != issued.redirect_uri:
            return GrantError("invalid_grant", "Mismatching redirect URI.")
        return issued.username


def _error_page(description: str, status: int = 400) -> web.Response:
    """Django OAuth Toolkit's page for an authorization request it will not redirect."""
    page = (
        "<!DOCTYPE html>\n<html><head><title>Beatport</title></head><body>\n"
        '<div class="block-center">\n  <h2>Error: invalid_request</h2>\n'
        f"  <p>{html.escape(description)}</p>\n</div>\n</body></html>\n"
    )
    return web.Response(text=page, status=status, content_type="text/html")


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


async def _credentials(request: web.BaseRequest) -> dict[str, object] | None:
    """The login body: JSON (as clients send it) or a form; None if it is neither."""
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def signin_routes(signin: SignIn) -> list[Route]:
    """Login, the authorization endpoint, and the docs page with its script."""

    async def login(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        body = await _credentials(request)
        if body is None:
            return json_response({"detail": "JSON parse error."}, status=400)
        missing = {
            name: ["This field is required."]
            for name in ("username", "password")
            if not isinstance(body.get(name), str) or not body.get(name)
        }
        if missing:
            return json_response(missing, status=400)
        account = signin.login(str(body["username"]), str(body["password"]))
        if account is None:
            return json_response({"non_field_errors": [BAD_CREDENTIALS]}, status=400)
        response = json_response({"username": account.username, "email": account.email})
        response.set_cookie(
            "sessionid",
            signin.open_session(account),
            max_age=int(signin.session_ttl),
            path="/",
            httponly=True,
            samesite="Lax",
        )
        response.set_cookie(
            "csrftoken", secrets.token_urlsafe(32), max_age=CSRF_AGE, path="/", samesite="Lax"
        )
        return response

    async def authorize(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        account = signin.session_account(request.cookies.get("sessionid"))
        if account is None:  # Django's login_required: to the login page, then back here
            return _redirect(f"{LOGIN_PATH}?next={quote(request.raw_path, safe='')}")
        query = request.query
        client_id = query.get("client_id", "")
        if not client_id:
            return _error_page("Missing client_id parameter.")
        client = signin.clients.get(client_id)
        if client is None:
            return _error_page("Invalid client_id parameter value.")
        redirect = query.get("redirect_uri", "")
        if redirect and redirect not in client.redirect_uris:
            return _error_page("Mismatching redirect URI.")
        target = redirect or client.default_redirect
        answer: dict[str, str]
        if query.get("response_type") != "code":
            what = query.get("response_type")
            answer = (
                {"error": "unsupported_response_type"}
                if what
                else {"error": "invalid_request", "error_description": "Missing response_type."}
            )
        else:
            answer = {"code": signin.issue_code(account, client, target, bool(redirect))}
        if "state" in query:
            answer["state"] = query["state"]
        return _redirect(_with_query(target, answer))

    async def docs(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        page = (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            "<title>Beatport API v4</title>\n"
            '<link rel="stylesheet" href="/v4/docs/static/css/main.css">\n</head>\n<body>\n'
            '<div id="swagger-ui"></div>\n'
            f'<script src="{DOCS_SCRIPT_PATH}"></script>\n</body>\n</html>\n'
        )
        return web.Response(text=page, content_type="text/html")

    async def docs_script(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        script = (
            "/*! Beatport API v4 docs (mock) */\n"
            "window.__BEATPORT_DOCS__ = {\n"
            f"  API_URL: '{request.scheme}://{request.host}/v4/',\n"
            f"  API_CLIENT_ID: '{signin.public_client.client_id}',\n"
            f"  API_REDIRECT_URI: '{signin.public_client.default_redirect}',\n"
            "};\n"
        )
        return web.Response(text=script, content_type="application/javascript")

    return [
        ("POST", LOGIN_PATH, login),
        ("GET", AUTHORIZE_PATH, authorize),
        ("GET", DOCS_PATH, docs),
        ("GET", DOCS_SCRIPT_PATH, docs_script),
    ]
