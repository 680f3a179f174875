"""How a run gets its API token, and the token every request of the run shares. Pure.

A run's token comes from `--token`, from a sign-in (`cratedigger login` stored it with its
refresh token and expiry), or from the token endpoint with the client-credentials grant.
`TokenBox` holds it for every request of the run: when it is due for renewal (shortly before
it expires) or refused with a 401, exactly one request renews it (`claim`), the others wait
for that renewal (`renewing`) and go on with the new token. Times are on the run's
monotonic clock, which the shell hands in; nothing here reads a clock or takes a lock itself.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from cratedigger.models import Request

DEFAULT_CLIENT_ID = "cratedigger"  # the settings table's default for --client-id
TOKEN_PATH = "/v4/auth/o/token/"
RENEW_MARGIN = 300.0  # renew a token this long before it expires (at most a tenth of its life)


def renewal_time(expires: float, lifetime: float) -> float:
    """When to renew a token that expires at `expires` after living `lifetime` seconds."""
    return expires - min(RENEW_MARGIN, max(lifetime, 0.0) / 10)


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to get an API token: a fixed one, a sign-in's, or the OAuth2 token endpoint.

    `signed_in`: the token and refresh token come from `cratedigger login`; a renewed token
    is handed back to be stored (`SaveToken`), and a refused renewal means signing in again.
    `expires_at` (seconds since the epoch) and `lifetime` say when the token runs out. No
    secret is part of the repr.
    """

    token: str | None = field(default=None, repr=False)
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = field(default="", repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    lifetime: float | None = None
    signed_in: bool = False

    def token_request(self) -> Request:
        form: tuple[tuple[str, str], ...]
        if self.username is not None:
            form = (
                ("grant_type", "password"),
                ("username", self.username),
                ("password", self.password or ""),
                ("client_id", self.client_id),
            )
        else:
            form = (("grant_type", "client_credentials"), ("client_id", self.client_id))
            if self.client_secret:  # public clients have none
                form += (("client_secret", self.client_secret),)
        return Request("POST", TOKEN_PATH, kind="token", form=form)

    def refresh_request(self, refresh_token: str) -> Request:
        """The refresh-token grant (in the form body: never in a URL, so never in a log)."""
        form = (
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", self.client_id),
        )
        return Request("POST", TOKEN_PATH, kind="token", form=form)


class TokenBox:
    """The bearer token every request of a run shares, with what renews it.

    `generation` tells renewals apart: a request that got a 401 renews the token only if
    nobody renewed it since the request went out. `renew_at` is when the token is due for
    renewal, on the run's monotonic clock (None: never before a 401). `renewing` is true
    while one request renews it; `refused` says why renewing failed for good (the others
    then give up at once instead of asking again). A threaded run passes a lock; the core
    never creates one.
    """

    def __init__(
        self,
        token: str | None = None,
        lock: AbstractContextManager[object] | None = None,
        *,
        refresh_token: str | None = None,
        renew_at: float | None = None,
    ) -> None:
        self._lock: AbstractContextManager[object] = lock if lock is not None else nullcontext()
        self.token = token
        self.refresh_token = refresh_token
        self.renew_at = renew_at
        self.generation = 0
        self.renewing = False
        self.refused: str | None = None
        self.renewals = 0  # tokens got during the run (the first one included)

    def __repr__(self) -> str:  # no token in any repr, log or traceback
        return f"TokenBox(generation={self.generation}, renewing={self.renewing})"

    def due(self, now: float) -> bool:
        """Whether the token should be renewed before the next request goes out."""
        renew_at = self.renew_at
        return renew_at is not None and now >= renew_at and self.refused is None

    def claim(self, generation: int) -> bool:
        """Take the renewal of the token of `generation`: False if it was renewed since,
        is being renewed, or cannot be."""
        with self._lock:
            if self.generation != generation or self.renewing or self.refused is not None:
                return False
            self.renewing = True
            return True

    def set(
        self, token: str, refresh_token: str | None = None, renew_at: float | None = None
    ) -> None:
        """A new token (a renewal ends here); a refresh token not given is kept."""
        with self._lock:
            self.token = token
            if refresh_token is not None:
                self.refresh_token = refresh_token
            self.renew_at = renew_at
            self.generation += 1
            self.renewals += 1
            self.renewing = False

    def release(self, refused: str | None = None, retry_at: float | None = None) -> None:
        """End a renewal that got no token: `refused` for good, or try again at `retry_at`
        (None: only on a 401)."""
        with self._lock:
            self.renewing = False
            if refused is not None:
                self.refused = refused
            self.renew_at = retry_at


def token_box(
    credentials: Credentials,
    clock: Callable[[], float],
    wall_clock: Callable[[], float],
    lock: AbstractContextManager[object] | None = None,
) -> TokenBox:
    """A run's token, due for renewal on the monotonic `clock` shortly before it expires
    (its expiry is stored in `wall_clock` time)."""
    renew_at = None
    if credentials.token and credentials.expires_at is not None:
        left = credentials.expires_at - wall_clock()
        renew_at = renewal_time(clock() + left, credentials.lifetime or left)
    return TokenBox(
        credentials.token, lock=lock, refresh_token=credentials.refresh_token, renew_at=renew_at
    )
