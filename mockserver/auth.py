"""OAuth2 for the mock API: the token endpoint and the Bearer-token check.

Grants: `authorization_code` (the code a signed-in session got from /v4/auth/o/authorize/,
see `mockserver.signin`: single-use, short-lived, bound to its client and redirect URI),
`refresh_token` (each refresh token is spent by its use, and expires after `refresh_ttl`),
and, for tests and benchmarks, `client_credentials` and `password`, which accept any client
and any credentials. Access tokens expire after `ttl` seconds of the injected clock; an
expired or unknown token is refused exactly like a missing one, with a 401 the clients must
handle.
"""

from __future__ import annotations

import math
import secrets
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

import orjson
from aiohttp import web

from mockserver.accounts import Account
from mockserver.routing import Params, Route

TOKEN_PATH: Final = "/v4/auth/o/token/"
SCOPE: Final = "app:locker user:dj"
SIGNED_IN_SCOPE: Final = "app:docs user:dj"  # a token got through the docs' public client
REFRESH_TTL: Final = 30 * 24 * 3600.0

# Which form fields each grant needs: the rules are data, the handler only looks them up.
GRANT_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "authorization_code": ("code", "client_id"),
    # Any client is accepted, confidential or public (a secret is optional): this is a mock.
    "client_credentials": ("client_id",),
    "password": ("username", "password", "client_id"),
    "refresh_token": ("refresh_token",),
}

NO_CREDENTIALS: Final = "Authentication credentials were not provided."
INVALID_TOKEN: Final = "Invalid token."
EXPIRED_TOKEN: Final = "Token has expired."

Clock = Callable[[], float]


_TOKEN_CHARS: Final = string.ascii_letters + string.digits
TOKEN_LENGTH: Final = 30


def oauth_token() -> str:
    """A token as Beatport's OAuth server makes them (oauthlib's generate_token: 30 letters
    and digits). Not token_urlsafe: one in 64 of those starts with '-', which a client's
    command line then reads as an option (`--token -x...`)."""
    return "".join(secrets.choice(_TOKEN_CHARS) for _ in range(TOKEN_LENGTH))


@dataclass(frozen=True, slots=True)
class Token:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    username: str
    scope: str = SCOPE
    client_id: str = ""
    refresh_expires_at: float = math.inf


@dataclass(frozen=True, slots=True)
class GrantError:
    """An OAuth2 error answer of the token endpoint."""

    error: str
    description: str
    status: int = 400


class CodeGrants(Protocol):
    """What the token endpoint needs of the sign-in flow: redeeming an authorization code."""

    def redeem(self, code: str, client_id: str, redirect_uri: str | None) -> str | GrantError:
        """The username the code was issued to (the code is spent), or why not."""
        ...


class TokenStore:
    """Issues and checks tokens; time comes from `clock` so tests can move it.

    `accounts` say who a token's user is (/v4/my/account/); users without an account (the
    client-credentials and password grants take any name) get a made-up profile.
    """

    def __init__(
        self,
        ttl: float,
        clock: Clock = time.monotonic,
        max_tokens: int = 100_000,
        *,
        refresh_ttl: float = REFRESH_TTL,
        accounts: Callable[[str], Account | None] = lambda _name: None,
    ) -> None:
        self.ttl = ttl
        self.refresh_ttl = refresh_ttl
        self._clock = clock
        self._max_tokens = max_tokens
        self._accounts = accounts
        self._by_access: dict[str, Token] = {}
        self._by_refresh: dict[str, Token] = {}

    def issue(self, username: str = "mockuser", scope: str = SCOPE, client_id: str = "") -> Token:
        """A new token valid for `ttl` seconds from now (its refresh token `refresh_ttl`)."""
        if len(self._by_access) >= self._max_tokens or len(self._by_refresh) >= self._max_tokens:
            self._prune()
        now = self._clock()
        token = Token(
            access_token=oauth_token(),
            refresh_token=oauth_token(),
            expires_at=now + self.ttl,
            username=username,
            scope=scope,
            client_id=client_id,
            refresh_expires_at=now + self.refresh_ttl,
        )
        self._by_access[token.access_token] = token
        self._by_refresh[token.refresh_token] = token
        return token

    def refresh(self, refresh_token: str, client_id: str = "") -> Token | None:
        """Swap a refresh token for a new token (the old refresh token is spent); None if it
        is unknown, spent, expired, or another client's."""
        old = self._by_refresh.get(refresh_token)
        if old is None or (client_id and old.client_id and client_id != old.client_id):
            return None
        del self._by_refresh[refresh_token]
        if self._clock() >= old.refresh_expires_at:
            return None
        return self.issue(old.username, old.scope, old.client_id)

    def check(self, authorization: str | None) -> str | None:
        """None if the Authorization header carries a live token, else the 401 detail."""
        if not authorization:
            return NO_CREDENTIALS
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value:
            return NO_CREDENTIALS
        token = self._by_access.get(value.strip())
        if token is None:
            return INVALID_TOKEN
        if self._clock() >= token.expires_at:
            return EXPIRED_TOKEN
        return None

    def username(self, authorization: str) -> str:
        """The user a (checked) Authorization header belongs to."""
        token = self._by_access.get(authorization.partition(" ")[2].strip())
        return "mockuser" if token is None else token.username

    def profile(self, authorization: str) -> dict[str, object]:
        """Who a (checked) Authorization header belongs to, as /v4/my/account/ says it."""
        username = self.username(authorization)
        account = self._accounts(username)
        if account is None:
            account = Account(username, "", f"{username}@example.com", 1_000_001)
        return account.profile()

    def _prune(self) -> None:
        # An access token and its refresh token live apart: a refresh token outlives its
        # access token (that is what it is for).
        now = self._clock()
        for token in [t for t in self._by_access.values() if t.expires_at <= now]:
            del self._by_access[token.access_token]
        for token in [t for t in self._by_refresh.values() if t.refresh_expires_at <= now]:
            del self._by_refresh[token.refresh_token]
        for tokens in (self._by_access, self._by_refresh):
            while len(tokens) >= self._max_tokens:
                del tokens[next(iter(tokens))]


def json_response(body: object, status: int = 200) -> web.Response:
    """A JSON response serialized with orjson."""
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def unauthorized(detail: str) -> web.Response:
    """The 401 Beatport answers when the Bearer token is missing, unknown or expired."""
    response = json_response({"detail": detail}, status=401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


async def _token_handler(
    request: web.BaseRequest, store: TokenStore, codes: CodeGrants | None
) -> web.Response:
    # Some clients put the grant in the query string of the POST (beets-beatport4 does).
    fields: dict[str, str] = dict(request.query)
    form = await request.post()
    fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    issued = _grant(fields, store, codes)
    if isinstance(issued, GrantError):
        return _oauth_error(issued)
    return json_response(
        {
            "access_token": issued.access_token,
            "expires_in": math.ceil(store.ttl),
            "token_type": "Bearer",
            "scope": issued.scope,
            "refresh_token": issued.refresh_token,
        }
    )


def _grant(
    fields: Mapping[str, str], store: TokenStore, codes: CodeGrants | None
) -> Token | GrantError:
    grant = fields.get("grant_type", "")
    if not grant:
        return GrantError("invalid_request", "Missing grant_type parameter value.")
    required = GRANT_FIELDS.get(grant)
    if required is None or (grant == "authorization_code" and codes is None):
        return GrantError("unsupported_grant_type", f"Unsupported grant type: {grant}.")
    missing = [name for name in required if not fields.get(name)]
    if missing:
        return GrantError("invalid_request", f"Missing {', '.join(missing)} parameter value.")
    if grant == "refresh_token":
        token = store.refresh(fields["refresh_token"], fields.get("client_id", ""))
        return GrantError("invalid_grant", "Invalid refresh token.") if token is None else token
    if grant == "authorization_code":
        assert codes is not None
        client_id = fields["client_id"]
        username = codes.redeem(fields["code"], client_id, fields.get("redirect_uri"))
        if isinstance(username, GrantError):
            return username
        return store.issue(username, SIGNED_IN_SCOPE, client_id)
    return store.issue(fields.get("username") or fields["client_id"], SCOPE, fields["client_id"])


def _oauth_error(error: GrantError) -> web.Response:
    body = {"error": error.error, "error_description": error.description}
    return json_response(body, status=error.status)


TOKEN_STORE: Final = web.AppKey("token_store", TokenStore)


def auth_routes(store: TokenStore, codes: CodeGrants | None = None) -> list[Route]:
    """POST /v4/auth/o/token/, issuing and refreshing the tokens of `store`; with `codes`, it
    also takes the authorization codes of the sign-in flow."""

    async def token(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        return await _token_handler(request, store, codes)

    return [("POST", TOKEN_PATH, token)]
