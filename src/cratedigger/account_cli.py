"""`cratedigger login`, `logout` and `whoami`: a Beatport sign-in, stored for `match`.

`login` signs in as Beatport's own API docs page does (`cratedigger.signin`) and stores the
token, its refresh token and its expiry (never the password) for the base URL, in the token
store of the config folder (`cratedigger.tokenstore`). `match` then needs no token option:
it takes the stored token, renews it as it expires and writes the renewal back. `logout`
forgets the base URL's entry; `whoami` says whose it is. Errors are one line; exit code 1
when signing in or asking fails, 2 for bad input.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cratedigger.errors import CratediggerError, InputError
from cratedigger.settings import SETTINGS, EffectiveSettings, resolve_settings
from cratedigger.tokenstore import StoredToken, TokenFile

if TYPE_CHECKING:
    from cratedigger.options import MatchOptions

__all__ = [
    "PASSWORD_ENV",
    "USERNAME_ENV",
    "add_account_commands",
    "sign_in_again",
    "signed_in_options",
]

USERNAME_ENV = "BEATPORT_USERNAME"
PASSWORD_ENV = "BEATPORT_PASSWORD"
DEFAULT_API_URL = "https://api.beatport.com"  # options.DEFAULT_BASE_URLS["api"]

LOGIN_EPILOG = f"""\
examples:
  cratedigger login                                   # api.beatport.com; asks for both
  cratedigger login --username dj@example.com
  cratedigger login --base-url http://127.0.0.1:8080  # a mock server (demo / demo)
  {USERNAME_ENV}=dj {PASSWORD_ENV}=... cratedigger login   # no questions (scripts)

The password is sent to Beatport once and stored nowhere. What is stored, for this base URL
only, is the access token, its refresh token and when it expires, in tokens.json in the
config folder (--config-dir; default ~/.config/cratedigger on Linux), readable by you alone
(mode 0600). `cratedigger match` uses it when no --token is given and renews it itself;
`cratedigger logout` removes it.
"""

# The settings each command takes (as `match` does: flag, environment, settings file).
LOGIN_SETTINGS = ("base_url", "client_id", "timeout", "config_dir")
LOGOUT_SETTINGS = ("base_url", "config_dir")
WHOAMI_SETTINGS = ("base_url", "timeout", "config_dir", "token")


def add_account_commands(subparsers: Any) -> None:
    """Register `login`, `logout` and `whoami` on the CLI's subparsers."""
    login = subparsers.add_parser(
        "login",
        help="sign in to Beatport and store the token for `match`",
        description="Sign in to Beatport with your username (or e-mail address) and password,\n"
        "as Beatport's API docs page does, and store the token for `cratedigger match`.",
        epilog=LOGIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    login.add_argument(
        "--username",
        help=f"Beatport username or e-mail address (default: env {USERNAME_ENV}, else asked); "
        f"the password is asked for (or env {PASSWORD_ENV}), never taken as an option",
    )
    _setting_options(
        login,
        LOGIN_SETTINGS,
        client_id="the public OAuth client id (default: read from Beatport's API docs page)",
    )
    login.set_defaults(handler=cmd_login)

    logout = subparsers.add_parser(
        "logout",
        help="forget the stored Beatport sign-in",
        description="Remove the stored sign-in of the base URL from the token store.",
    )
    _setting_options(logout, LOGOUT_SETTINGS)
    logout.set_defaults(handler=cmd_logout)

    whoami = subparsers.add_parser(
        "whoami",
        help="print the Beatport account the stored sign-in belongs to",
        description="Ask Beatport (/v4/my/account/) whose the stored sign-in (or --token) is; "
        "a stored token due for renewal is renewed first.",
    )
    _setting_options(whoami, WHOAMI_SETTINGS)
    whoami.set_defaults(handler=cmd_whoami)


def _setting_options(parser: argparse.ArgumentParser, names: tuple[str, ...], **helps: str) -> None:
    """The flags of these rows of the settings table (`helps`: what a flag means here)."""
    for setting in SETTINGS:
        if setting.name in names:
            help_text = helps.get(setting.name, setting.help)
            parser.add_argument(setting.flag, metavar=setting.metavar, help=help_text)


def _settings(args: argparse.Namespace) -> EffectiveSettings:
    cli = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    return resolve_settings(cli, os.environ, Path.cwd())


def _api_url(settings: EffectiveSettings) -> str:
    return (settings.base_url or DEFAULT_API_URL).rstrip("/")


def login_command(url: str) -> str:
    """The command that signs in to `url`."""
    return "cratedigger login" + ("" if url == DEFAULT_API_URL else f" --base-url {url}")


def sign_in_again(url: str) -> str:
    """What to tell a user whose sign-in to `url` can no longer be renewed."""
    return (
        f"the server refused the stored sign-in to {url} (it expired, was revoked, or the "
        f"server forgot it, as a restarted mock does); sign in again with "
        f"`{login_command(url)}`"
    )


def signed_in_options(options: MatchOptions, settings: EffectiveSettings) -> MatchOptions:
    """`options` with the stored sign-in of their base URL, unless a token or a client
    secret was given (or the source needs no token, or nobody signed in)."""
    if not options.needs_token or settings.token or settings.client_secret:
        return options
    stored = TokenFile(settings.config_dir).load(options.url)
    if stored is None:
        return options
    return replace(
        options,
        credentials=stored.credentials(options.credentials),
        token_store=settings.config_dir,
    )


def _ask(prompt: str) -> str:
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip()


def _password() -> str:
    """The password from the terminal; without one (a pipe, /dev/null) a clear refusal."""
    try:
        return getpass.getpass("Beatport password: ")
    except EOFError:
        raise InputError(
            f"no password given: run `cratedigger login` in a terminal, or set {PASSWORD_ENV}"
        ) from None


def cmd_login(args: argparse.Namespace) -> int:
    from cratedigger.signin import sign_in

    settings = _settings(args)
    url = _api_url(settings)
    username = args.username or os.environ.get(USERNAME_ENV) or _ask("Beatport username: ")
    password = os.environ.get(PASSWORD_ENV) or _password()
    if not username.strip() or not password:
        raise InputError(
            f"signing in needs a username and a password (or {USERNAME_ENV} and {PASSWORD_ENV})"
        )
    client_id = settings.client_id if settings.origin("client_id") != "default" else None
    stored = sign_in(url, username.strip(), password, client_id=client_id, timeout=settings.timeout)
    store = _save(TokenFile(settings.config_dir), url, stored)
    who = stored.username + (f" <{stored.email}>" if stored.email else "")
    print(f"signed in to {url} as {who}; the token is stored in {store.path}")
    return 0


def _save(store: TokenFile, url: str, stored: StoredToken) -> TokenFile:
    try:
        store.save(url, stored)
    except OSError as error:
        raise CratediggerError(
            f"cannot store the sign-in in {store.path}: {error.strerror or error}"
        ) from None
    return store


def cmd_logout(args: argparse.Namespace) -> int:
    settings = _settings(args)
    url = _api_url(settings)
    store = TokenFile(settings.config_dir)
    try:
        removed = store.remove(url)
    except OSError as error:
        raise CratediggerError(f"cannot change {store.path}: {error.strerror or error}") from None
    if removed:
        print(f"signed out of {url}: its token is removed from {store.path}")
    else:
        print(f"not signed in to {url}: nothing to remove")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    from cratedigger.signin import account

    settings = _settings(args)
    url = _api_url(settings)
    store = TokenFile(settings.config_dir)
    renewable: StoredToken | None = None  # a stored token not renewed yet
    if settings.token:
        token = settings.token
    else:
        stored = store.load(url)
        if stored is None:
            raise CratediggerError(f"not signed in to {url}; sign in with `{login_command(url)}`")
        current = _renewed_if_due(store, url, stored, settings)
        token = current.access_token
        renewable = stored if current is stored else None
    profile = account(url, token, timeout=settings.timeout)
    if profile is None and renewable is not None:  # refused before it expired: renew once
        renewed = _renew(store, url, renewable, settings)
        profile = account(url, renewed.access_token, timeout=settings.timeout)
    if profile is None:
        hint = "check --token" if settings.token else f"sign in again with `{login_command(url)}`"
        raise CratediggerError(f"{url} refused the token; {hint}")
    name, email = profile.get("username", "?"), profile.get("email")
    print(f"{name}" + (f" <{email}>" if email else "") + f" on {url}")
    return 0


def _renewed_if_due(
    store: TokenFile, url: str, stored: StoredToken, settings: EffectiveSettings
) -> StoredToken:
    from cratedigger.signin import due

    return _renew(store, url, stored, settings) if due(stored, time.time()) else stored


def _renew(
    store: TokenFile, url: str, stored: StoredToken, settings: EffectiveSettings
) -> StoredToken:
    from cratedigger.signin import SignInExpired, refresh

    try:
        renewed = refresh(url, stored, timeout=settings.timeout)
    except SignInExpired:
        raise CratediggerError(sign_in_again(url)) from None
    _save(store, url, renewed)
    return renewed
