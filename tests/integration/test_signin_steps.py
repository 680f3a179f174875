"""The client's sign-in steps and commands in-process against the mock: each step's refusal,
renewing a stored sign-in, and what `whoami`, `login` and `logout` say when things fail."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from cratedigger.cli import main
from cratedigger.signin import SignInError, SignInExpired, account, due, refresh, sign_in
from cratedigger.tokenstore import FILE_NAME, StoredToken, TokenFile
from mockserver.accounts import PUBLIC_CLIENT
from tests.integration.conftest import ServerFactory
from tests.integration.mockserver.test_api import FakeClock

SMALL = 300


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A token store of the test's own, and the demo account's credentials in the env."""
    folder = tmp_path / "config"
    monkeypatch.setenv("CRATEDIGGER_CONFIG_DIR", str(folder))
    monkeypatch.setenv("BEATPORT_USERNAME", "demo")
    monkeypatch.setenv("BEATPORT_PASSWORD", "demo")
    monkeypatch.delenv("BEATPORT_TOKEN", raising=False)
    return folder


def login(base: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["login", "--base-url", base]) == 0
    capsys.readouterr()


def test_each_step_says_where_it_failed(mock_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SignInError, match=r"^finding the client id: .* answered HTTP 404$"):
        sign_in(f"{mock_server}/nowhere", "demo", "demo")
    with pytest.raises(SignInError, match=r"password: This field is required\."):
        sign_in(mock_server, "demo", "", client_id=PUBLIC_CLIENT.client_id)
    with pytest.raises(SignInError, match=r"Invalid client_id parameter value\."):
        sign_in(mock_server, "demo", "demo", client_id="no-such-client")
    monkeypatch.setattr("cratedigger.signin._CLIENT_ID", re.compile("NOT_THERE: '(x)'"))
    with pytest.raises(SignInError, match="names an API_CLIENT_ID; give it with --client-id"):
        sign_in(mock_server, "demo", "demo")


def test_a_failing_token_endpoint_is_not_a_refusal(mock_server_factory: ServerFactory) -> None:
    base = mock_server_factory(catalog_size=SMALL, faults="token:503=1").base_url
    with pytest.raises(
        SignInError, match=r"^getting the token: the token endpoint answered HTTP 503$"
    ):
        sign_in(base, "demo", "demo")


def test_a_servers_reason_is_one_short_line_with_no_secret_of_ours() -> None:
    from cratedigger.signin import _reason

    assert _reason("Wrong &amp; bad:\n  hunter2-pw\tis wrong", ["hunter2-pw", ""]) == (
        "Wrong & bad: *** is wrong"
    )
    assert _reason("x" * 500).endswith("...") and len(_reason("x" * 500)) == 203


def test_refresh_renews_a_stored_sign_in_once(mock_server: str) -> None:
    stored = sign_in(mock_server, "demo", "demo")
    renewed = refresh(mock_server, stored, wall_clock=lambda: 1000.0)
    assert renewed.access_token != stored.access_token
    assert renewed.refresh_token not in (None, stored.refresh_token)
    assert (renewed.expires_at, renewed.username) == (1000.0 + 36000, "demo")
    profile = account(mock_server, renewed.access_token)
    assert profile is not None and profile["email"] == "demo@example.com"
    assert account(mock_server, stored.access_token) is not None  # lives until it expires
    with pytest.raises(SignInExpired):
        refresh(mock_server, stored)  # its refresh token is spent
    with pytest.raises(SignInExpired):
        refresh(mock_server, StoredToken("a", None, "cid"))
    assert account(mock_server, "not-a-token") is None
    assert due(renewed, renewed.expires_at - 301) is False  # type: ignore[operator]
    assert due(renewed, renewed.expires_at - 300) is True  # type: ignore[operator]
    assert due(StoredToken("a", None, "cid"), 1e12) is False


def test_an_account_route_that_fails_is_an_error(mock_server_factory: ServerFactory) -> None:
    base = mock_server_factory(catalog_size=SMALL, faults="account:500=1").base_url
    stored = sign_in(base, "demo", "demo")
    with pytest.raises(SignInError, match="answered HTTP 500"):
        account(base, stored.access_token)


# -- the commands ----------------------------------------------------------------------------


def test_whoami_renews_a_stored_token_that_is_due(
    mock_server: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    login(mock_server, capsys)
    before = TokenFile(config).load(mock_server)
    assert before is not None
    document = json.loads((config / FILE_NAME).read_text())
    document["tokens"][mock_server]["expires_at"] = time.time() + 10
    (config / FILE_NAME).write_text(json.dumps(document))
    assert main(["whoami", "--base-url", mock_server]) == 0
    assert capsys.readouterr().out == f"demo <demo@example.com> on {mock_server}\n"
    after = TokenFile(config).load(mock_server)
    assert after is not None and after.access_token != before.access_token
    assert after.expires_at is not None and after.expires_at > time.time() + 35_000


def test_whoami_renews_a_refused_token_once(
    mock_server_factory: ServerFactory, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    base = mock_server_factory(clock=clock, catalog_size=SMALL).base_url
    login(base, capsys)
    clock.now += 36_000  # dead on the server, though the client thinks it has hours left
    assert main(["whoami", "--base-url", base]) == 0
    assert capsys.readouterr().out == f"demo <demo@example.com> on {base}\n"
    clock.now += 31 * 24 * 3600  # and now the refresh token too
    assert main(["whoami", "--base-url", base]) == 1
    assert capsys.readouterr().err == (
        f"cratedigger: error: the server refused the stored sign-in to {base} (it expired, "
        "was revoked, or the server forgot it, as a restarted mock does); sign in again with "
        f"`cratedigger login --base-url {base}`\n"
    )


def test_whoami_with_a_token_option(
    mock_server: str,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = sign_in(mock_server, "demo", "demo")
    assert main(["whoami", "--base-url", mock_server, "--token", stored.access_token]) == 0
    assert capsys.readouterr().out == f"demo <demo@example.com> on {mock_server}\n"
    monkeypatch.setenv("BEATPORT_TOKEN", "not-a-token")
    assert main(["whoami", "--base-url", mock_server]) == 1
    err = capsys.readouterr().err
    assert err == f"cratedigger: error: {mock_server} refused the token; check --token\n"


def test_login_and_logout_say_when_the_store_cannot_be_written(
    mock_server: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    args = ["--base-url", mock_server, "--config-dir", str(not_a_folder)]
    assert main(["login", *args]) == 1
    assert capsys.readouterr().err.startswith(
        f"cratedigger: error: cannot store the sign-in in {not_a_folder / FILE_NAME}: "
    )
    assert main(["logout", *args]) == 1
    assert capsys.readouterr().err.startswith(
        f"cratedigger: error: cannot change {not_a_folder / FILE_NAME}: "
    )


def test_match_prefers_a_token_option_to_the_stored_sign_in(
    mock_server: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cratedigger.account_cli import signed_in_options
    from cratedigger.options import MatchOptions
    from cratedigger.settings import resolve_settings

    login(mock_server, capsys)
    env = {"CRATEDIGGER_CONFIG_DIR": str(config)}
    plain = resolve_settings({"base_url": mock_server}, env, tmp_path)
    signed = signed_in_options(MatchOptions.from_settings(plain), plain)
    assert signed.credentials.signed_in and signed.token_store == config
    for cli in ({"token": "t0ken"}, {"client_secret": "s3cret"}, {"source": "web"}):
        settings = resolve_settings({"base_url": mock_server, **cli}, env, tmp_path)
        options = MatchOptions.from_settings(settings)
        assert signed_in_options(options, settings) is options
    elsewhere = resolve_settings({"base_url": "http://127.0.0.1:9"}, env, tmp_path)
    options = MatchOptions.from_settings(elsewhere)
    assert signed_in_options(options, elsewhere) is options
