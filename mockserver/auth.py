"""OAuth2 for the mock API: the token endpoint and the Bearer-token check.

Any client id and any credentials are accepted (it is a mock), but the request must be
well formed, tokens expire after `ttl` seconds of the injected clock, and an expired or
unknown token is refused exactly like a missing one, with a 401 the clients must handle.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import orjson
from aiohttp import web

from mockserver.routing import Params, Route

TOKEN_PATH: Final = "/v4/auth/o/token/"
SCOPE: Final = "app:locker user:dj"

# Which form fields each grant needs: the rules are data, the handler only looks them up.
GRANT_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    # Any client is accepted, confidential or public (a secret is optional): this is a mock.
    "client_credentials": ("client_id",),
    "password": ("username", "password", "client_id"),
    "refresh_token": ("refresh_token",),
}

NO_CREDENTIALS: Final = "Authentication credentials were not provided."
INVALID_TOKEN: Final = "Invalid token."
EXPIRED_TOKEN: Final = "Token has expired."

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Token:
    access_token: str
    refresh_token: str
    expires_at: float
    username: str


class TokenStore:
    """Issues and checks tokens; time comes from `clock` so tests can move it."""

    def __init__(
        self, ttl: float, clock: Clock = time.monotonic, max_tokens: int = 100_000
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._max_tokens = max_tokens
        self._by_access: dict[str, Token] = {}
        self._by_refresh: dict[str, Token] = {}

    def issue(self, username: str = "mockuser") -> Token:
        """A new token valid for `ttl` seconds from now."""
        if len(self._by_access) >= self._max_tokens:
            self._prune()
        token = Token(
            access_token=secrets.token_urlsafe(24),
            refresh_token=secrets.token_urlsafe(24),
            expires_at=self._clock() + self.ttl,
            username=username,
        )
        self._by_access[token.access_token] = token
        self._by_refresh[token.refresh_token] = token
        return token

    def refresh(self, refresh_token: str) -> Token | None:
        """Swap a refresh token for a new token (the old refresh token is spent)."""
        old = self._by_refresh.pop(refresh_token, None)
        return None if old is None else self.issue(old.username)

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

    def _prune(self) -> None:
        now = self._clock()
        for token in [t for t in self._by_access.values() if t.expires_at <= now]:
            del self._by_access[token.access_token]
            self._by_refresh.pop(token.refresh_token, None)
        while len(self._by_access) >= self._max_tokens:
            oldest = next(iter(self._by_access.values()))
            del self._by_access[oldest.access_token]
            self._by_refresh.pop(oldest.refresh_token, None)


def json_response(body: object, status: int = 200) -> web.Response:
    """A JSON response serialized with orjson."""
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def unauthorized(detail: str) -> web.Response:
    """The 401 Beatport answers when the Bearer token is missing, unknown or expired."""
    response = json_response({"detail": detail}, status=401)
    response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


async def _token_handler(request: web.BaseRequest, store: TokenStore) -> web.Response:
    # Some clients put the grant in the query string of the POST (beets-beatport4 does).
    fields: dict[str, str] = dict(request.query)
    form = await request.post()
    fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    grant = fields.get("grant_type", "")
    if not grant:
        return _oauth_error("invalid_request", "Missing grant_type parameter value.")
    required = GRANT_FIELDS.get(grant)
    if required is None:
        return _oauth_error("unsupported_grant_type", f"Unsupported grant type: {grant}.")
    missing = [name for name in required if not fields.get(name)]
    if missing:
        return _oauth_error("invalid_request", f"Missing {', '.join(missing)} parameter value.")
    if grant == "refresh_token":
        token = store.refresh(fields["refresh_token"])
        if token is None:
            return _oauth_error("invalid_grant", "Invalid refresh token.")
    else:
        token = store.issue(fields.get("username") or fields["client_id"])
    return json_response(
        {
            "access_token": token.access_token,
            "expires_in": math.ceil(store.ttl),
            "token_type": "Bearer",
            "scope": SCOPE,
            "refresh_token": token.refresh_token,
        }
    )


def _oauth_error(error: str, description: str) -> web.Response:
    return json_response({"error": error, "error_description": description}, status=400)


TOKEN_STORE: Final = web.AppKey("token_store", TokenStore)


def auth_routes(store: TokenStore) -> list[Route]:
    """POST /v4/auth/o/token/, issuing and refreshing the tokens of `store`."""

    async def token(request: web.BaseRequest, params: Params) -> web.StreamResponse:
        return await _token_handler(request, store)

    return [("POST", TOKEN_PATH, token)]
