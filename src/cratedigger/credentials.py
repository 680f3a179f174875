"""How a run gets its API token, and the token every request of the run shares. Pure."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from cratedigger.models import Request

DEFAULT_CLIENT_ID = "cratedigger"  # the settings table's default for --client-id


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to get an API token: a fixed one, or the OAuth2 token endpoint."""

    token: str | None = None
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = ""
    username: str | None = None
    password: str | None = None

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
        return Request("POST", "/v4/auth/o/token/", kind="token", form=form)


class TokenBox:
    """The bearer token every request of a run shares; `generation` tells renewals apart.

    A threaded run passes a lock; the core never creates one.
    """

    def __init__(
        self, token: str | None = None, lock: AbstractContextManager[object] | None = None
    ) -> None:
        self._lock: AbstractContextManager[object] = lock if lock is not None else nullcontext()
        self.token = token
        self.generation = 0

    def set(self, token: str) -> None:
        with self._lock:
            self.token = token
            self.generation += 1
