"""The signed-in tokens on disk: one entry per Beatport base URL, readable by the user alone.

`cratedigger login` stores what the sign-in gave (access token, refresh token, when it
expires, the client id and the account's name), never the password; `match` reads the entry
of its base URL and writes each renewed token back; `logout` removes the entry. The file is
`tokens.json` in the config folder (the `config_dir` setting: by default the user's config
folder, `~/.config/cratedigger` on Linux), created with mode 0600 in a folder of mode 0700
and replaced atomically (a temporary sibling, fsync, rename) under a lock, so two runs that
renew at once cannot leave half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cratedigger.credentials import Credentials

__all__ = ["FILE_NAME", "FORMAT", "StoredToken", "TokenFile"]

FORMAT = "cratedigger-tokens/1"
FILE_NAME = "tokens.json"


def _number(value: object) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class StoredToken:
    """One base URL's sign-in. Times are seconds since the epoch; no secret in the repr."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    client_id: str
    expires_at: float | None = None
    lifetime: float | None = None
    username: str = ""
    email: str = ""
    scope: str = ""

    @classmethod
    def issued(
        cls,
        answer: Mapping[str, Any],
        client_id: str,
        now: float,
        username: str = "",
        email: str = "",
    ) -> StoredToken:
        """The token endpoint's `answer`, received at `now`."""
        lifetime = _number(answer.get("expires_in"))
        refresh = answer.get("refresh_token")
        return cls(
            access_token=str(answer["access_token"]),
            refresh_token=str(refresh) if isinstance(refresh, str) and refresh else None,
            client_id=client_id,
            expires_at=None if lifetime is None else now + lifetime,
            lifetime=lifetime,
            username=username,
            email=email,
            scope=str(answer.get("scope") or ""),
        )

    def renewed(
        self, access_token: str, refresh_token: str | None, lifetime: float | None, now: float
    ) -> StoredToken:
        """This entry with a renewed token received at `now`."""
        return replace(
            self,
            access_token=access_token,
            refresh_token=refresh_token or self.refresh_token,
            expires_at=None if lifetime is None else now + lifetime,
            lifetime=lifetime,
        )

    def credentials(self, base: Credentials) -> Credentials:
        """`base` with this sign-in's token, refresh token, expiry and client id."""
        return replace(
            base,
            token=self.access_token,
            refresh_token=self.refresh_token,
            expires_at=self.expires_at,
            lifetime=self.lifetime,
            client_id=self.client_id,
            signed_in=True,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
            "expires_at": self.expires_at,
            "lifetime": self.lifetime,
            "username": self.username,
            "email": self.email,
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, data: object) -> StoredToken | None:
        """An entry as stored; None if it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            return None
        refresh = data.get("refresh_token")
        return cls(
            access_token=data["access_token"],
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            client_id=str(data.get("client_id") or ""),
            expires_at=_number(data.get("expires_at")),
            lifetime=_number(data.get("lifetime")),
            username=str(data.get("username") or ""),
            email=str(data.get("email") or ""),
            scope=str(data.get("scope") or ""),
        )


def _key(base_url: str) -> str:
    return base_url.rstrip("/")


class TokenFile:
    """The token store of one config folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE_NAME

    def load(self, base_url: str) -> StoredToken | None:
        """The sign-in stored for `base_url`, if any."""
        return StoredToken.from_json(self._read().get(_key(base_url)))

    def save(self, base_url: str, token: StoredToken) -> None:
        """Store `token` as `base_url`'s sign-in (replacing any other)."""
        with self._locked():
            entries = self._read()
            entries[_key(base_url)] = token.to_json()
            self._write(entries)

    def renew(
        self,
        base_url: str,
        access_token: str,
        refresh_token: str | None,
        expires_in: float | None,
        now: float,
    ) -> None:
        """Replace `base_url`'s stored tokens with renewed ones, read and written under the
        store's lock; nothing if its sign-in is gone (`cratedigger logout` meanwhile: the user
        wants none kept)."""
        with self._locked():
            entries = self._read()
            stored = StoredToken.from_json(entries.get(_key(base_url)))
            if stored is None:
                return
            renewed = stored.renewed(access_token, refresh_token, expires_in, now)
            entries[_key(base_url)] = renewed.to_json()
            self._write(entries)

    def remove(self, base_url: str) -> bool:
        """Forget `base_url`'s sign-in; whether there was one."""
        with self._locked():
            entries = self._read()
            if entries.pop(_key(base_url), None) is None:
                return False
            self._write(entries)
            return True

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            # A damaged store costs the sign-ins it held, not the run: say so once.
            print(
                f"cratedigger: warning: {self.path}: not a token store ({error}); "
                "sign in again with `cratedigger login`",
                file=sys.stderr,
            )
            return {}
        tokens = data.get("tokens") if isinstance(data, dict) else None
        return dict(tokens) if isinstance(tokens, dict) else {}

    def _write(self, entries: Mapping[str, object]) -> None:
        text = json.dumps({"format": FORMAT, "tokens": entries}, indent=1, sort_keys=True)
        fd, temp = tempfile.mkstemp(dir=self.folder, prefix=f".{FILE_NAME}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp's mode is 0600
                out.write(text + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's lock (a sibling lock file) while reading and replacing it."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # Windows: the atomic replace alone
            yield
            return
        fd = os.open(self.folder / f".{FILE_NAME}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
