"""The token store on disk: one entry per base URL, mode 0600 in a 0700 folder, atomic."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from cratedigger.credentials import Credentials
from cratedigger.drivers.session import Session, open_session
from cratedigger.exchange import SaveToken
from cratedigger.options import MatchOptions
from cratedigger.tokenstore import FORMAT, StoredToken, TokenFile

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")

ANSWER = {
    "access_token": "acc3ss-1",
    "expires_in": 36000,
    "token_type": "Bearer",
    "scope": "app:docs user:dj",
    "refresh_token": "refr3sh-1",
}


def token(access: str = "acc3ss-1") -> StoredToken:
    issued = StoredToken.issued(ANSWER | {"access_token": access}, "cid", 1000.0, "dj", "d@x")
    return issued


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_entry_is_stored_per_base_url_readable_by_the_user_alone(tmp_path: Path) -> None:
    folder = tmp_path / "conf" / "cratedigger"
    store = TokenFile(folder)
    assert store.load("http://a") is None and not store.path.exists()
    store.save("http://a/", token("a-token"))
    store.save("http://b", token("b-token"))
    assert mode(folder) == 0o700 and mode(store.path) == 0o600
    a, b = store.load("http://a"), store.load("http://b/")
    assert a is not None and b is not None
    assert (a.access_token, b.access_token) == ("a-token", "b-token")
    assert (a.refresh_token, a.client_id, a.username, a.email) == ("refr3sh-1", "cid", "dj", "d@x")
    assert (a.expires_at, a.lifetime, a.scope) == (37000.0, 36000.0, "app:docs user:dj")
    document = json.loads(store.path.read_text())
    assert document["format"] == FORMAT and sorted(document["tokens"]) == ["http://a", "http://b"]
    assert "password" not in store.path.read_text()


def test_a_wider_file_is_replaced_by_a_private_one_and_no_temporary_file_stays(
    tmp_path: Path,
) -> None:
    store = TokenFile(tmp_path)
    store.path.write_text("{}")
    os.chmod(store.path, 0o644)
    store.save("http://a", token())
    assert mode(store.path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tokens.json.lock", "tokens.json"]


def test_remove_forgets_one_base_url(tmp_path: Path) -> None:
    store = TokenFile(tmp_path)
    store.save("http://a", token())
    store.save("http://b", token())
    assert store.remove("http://a") is True
    assert store.remove("http://a") is False
    assert store.load("http://a") is None and store.load("http://b") is not None


def test_a_damaged_store_warns_once_and_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = TokenFile(tmp_path)
    store.path.write_text("{not json")
    assert store.load("http://a") is None
    assert "not a token store" in capsys.readouterr().err
    store.save("http://a", token())
    assert store.load("http://a") is not None
    store.path.write_text('{"tokens": {"http://a": {"no": "token"}}}')
    assert store.load("http://a") is None


def test_a_failed_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenFile(tmp_path)
    store.save("http://a", token("first"))

    def broken(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        store.save("http://a", token("second"))
    loaded = store.load("http://a")
    assert loaded is not None and loaded.access_token == "first"
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_a_stored_sign_in_becomes_the_runs_credentials() -> None:
    renewed = token().renewed("acc3ss-2", None, 600.0, 2000.0)
    assert (renewed.access_token, renewed.refresh_token) == ("acc3ss-2", "refr3sh-1")
    assert (renewed.expires_at, renewed.lifetime) == (2600.0, 600.0)
    credentials = renewed.credentials(Credentials(client_id="ignored"))
    assert credentials.signed_in and credentials.client_id == "cid"
    assert (credentials.token, credentials.refresh_token) == ("acc3ss-2", "refr3sh-1")
    assert (credentials.expires_at, credentials.lifetime) == (2600.0, 600.0)
    assert "acc3ss" not in repr(renewed) and "refr3sh" not in repr(renewed)


# -- the run's side: the session writes renewals back -----------------------------------------


def signed_in_session(folder: Path, expires_in: float = 1000.0) -> Session:
    stored = token()
    credentials = replace(stored.credentials(Credentials()), expires_at=time.time() + expires_in)
    options = MatchOptions(base_url="http://a", credentials=credentials, token_store=folder)
    return open_session(options)


def test_a_stored_expiry_becomes_a_renewal_time_on_the_monotonic_clock(tmp_path: Path) -> None:
    session = signed_in_session(tmp_path, expires_in=1000.0)
    renew_at = session.ctx.tokens.renew_at
    assert renew_at == pytest.approx(time.monotonic() + 1000.0 - 300.0, abs=5)
    assert session.ctx.tokens.refresh_token == "refr3sh-1"
    assert not signed_in_session(tmp_path, 1000.0).ctx.tokens.due(time.monotonic())
    assert signed_in_session(tmp_path, 200.0).ctx.tokens.due(time.monotonic())


def test_the_session_writes_a_renewal_over_the_entry(tmp_path: Path) -> None:
    TokenFile(tmp_path).save("http://a", token())
    session = signed_in_session(tmp_path)
    assert session.touch_cache(SaveToken("acc3ss-2", "refr3sh-2", 36000.0)) is None
    stored = TokenFile(tmp_path).load("http://a")
    assert stored is not None
    assert (stored.access_token, stored.refresh_token, stored.username) == (
        "acc3ss-2",
        "refr3sh-2",
        "dj",
    )
    assert stored.expires_at == pytest.approx(time.time() + 36000.0, abs=5)


def test_a_renewal_after_logout_is_not_stored(tmp_path: Path) -> None:
    session = signed_in_session(tmp_path)
    session.touch_cache(SaveToken("acc3ss-2", "refr3sh-2", 36000.0))
    assert TokenFile(tmp_path).load("http://a") is None


def test_a_renewal_that_cannot_be_written_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    TokenFile(tmp_path).save("http://a", token())
    session = signed_in_session(tmp_path)

    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(TokenFile, "_write", full)
    session.touch_cache(SaveToken("acc3ss-2", "refr3sh-2", 36000.0))
    err = capsys.readouterr().err
    assert "cannot store the renewed sign-in" in err and "No space left" in err
    assert "acc3ss" not in err
