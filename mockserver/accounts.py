"""Who can sign in to the mock: its accounts and its one public OAuth client.

Accounts come from a TOML file (`--accounts FILE`, or `accounts = "FILE"` in the --config
file), or else the one demo account the server prints at start-up:

    [[account]]
    username = "dj"
    password = "correct horse"
    email = "dj@example.com"      # optional: username@example.com
    first_name = "Dee"            # optional
    last_name = "Jay"             # optional

The public client is what Beatport's API docs page uses (its id is published in the page's
script, as Beatport's is): it may only redirect to Beatport's post-message page.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from mockserver.errors import SpecError

__all__ = [
    "DEMO_ACCOUNT",
    "POST_MESSAGE_URI",
    "PUBLIC_CLIENT",
    "Account",
    "Accounts",
    "ClientApp",
    "load_accounts",
]

POST_MESSAGE_URI: Final = "https://api.beatport.com/v4/auth/o/post-message/"
FIRST_ACCOUNT_ID: Final = 1_000_001


@dataclass(frozen=True, slots=True)
class Account:
    """One account of the mock; the password is never part of its repr."""

    username: str
    password: str = field(repr=False)
    email: str
    id: int
    first_name: str = "Mock"
    last_name: str = "User"

    def profile(self) -> dict[str, object]:
        """What /v4/my/account/ says about this account."""
        return {
            "id": self.id,
            "username": self.username,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "country": "US",
            "date_joined": "2020-01-01T00:00:00-07:00",
            "enabled": True,
            "is_staff": False,
            "preferences": {"language": "en", "currency": "USD"},
            "subscription": None,
        }


@dataclass(frozen=True, slots=True)
class ClientApp:
    """An OAuth client registered with the mock: its id and the redirect URIs it may use."""

    client_id: str
    redirect_uris: tuple[str, ...]

    @property
    def default_redirect(self) -> str:
        return self.redirect_uris[0]


DEMO_ACCOUNT: Final = Account("demo", "demo", "demo@example.com", FIRST_ACCOUNT_ID, "Demo", "DJ")
PUBLIC_CLIENT: Final = ClientApp("mOcKpUbLiCcLiEnTiD0123456789abcdefABCDEF", (POST_MESSAGE_URI,))


class Accounts:
    """The accounts by username; sign-in also takes the e-mail address, in any case."""

    def __init__(self, accounts: Iterable[Account] = (DEMO_ACCOUNT,)) -> None:
        self._by_name: dict[str, Account] = {}
        self._by_email: dict[str, Account] = {}
        for account in accounts:
            self._by_name[account.username] = account
            self._by_email[account.email.lower()] = account

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self) -> Iterator[Account]:
        return iter(self._by_name.values())

    def find(self, login: str) -> Account | None:
        """The account a login names: its username, or its e-mail address."""
        return self._by_name.get(login) or self._by_email.get(login.strip().lower())

    def get(self, username: str) -> Account | None:
        return self._by_name.get(username)


def _field(entry: Mapping[str, object], name: str, where: str, default: str | None) -> str:
    value = entry.get(name, default)
    if not isinstance(value, str) or not value:
        raise SpecError(where, f"{name} must be a non-empty string")
    return value


def load_accounts(path: Path) -> tuple[Account, ...]:
    """The accounts of a TOML file (a `[[account]]` table per account)."""
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SpecError(name, f"cannot read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SpecError(name, f"not valid TOML: {error}") from None
    entries = data.get("account")
    if not isinstance(entries, list) or not entries:
        raise SpecError(name, "expected one [[account]] table or more")
    accounts: list[Account] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        where = f"{name}: account {number}"
        if not isinstance(entry, dict):
            raise SpecError(where, "expected a table")
        unknown = set(entry) - {"username", "password", "email", "first_name", "last_name"}
        if unknown:
            raise SpecError(where, f"unknown key {sorted(unknown)[0]!r}")
        username = _field(entry, "username", where, None)
        if username in seen:
            raise SpecError(where, f"username {username!r} is given twice")
        seen.add(username)
        accounts.append(
            Account(
                username=username,
                password=_field(entry, "password", where, None),
                email=_field(entry, "email", where, f"{username}@example.com"),
                id=FIRST_ACCOUNT_ID + number - 1,
                first_name=_field(entry, "first_name", where, "Mock"),
                last_name=_field(entry, "last_name", where, "User"),
            )
        )
    return tuple(accounts)
