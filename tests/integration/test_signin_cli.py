"""`cratedigger login`, `match` with the stored sign-in, `whoami`, `logout`: the commands as a
user runs them, against the mock, and what they never print or write: a token."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cratedigger.cli import main
from cratedigger.output import journal_path, read_results
from cratedigger.settings import MODES
from cratedigger.tokenstore import FILE_NAME, TokenFile
from mockserver.catalog import Catalog
from tests.integration.conftest import ServerFactory
from tests.integration.mockserver.test_api import FakeClock
from tests.integration.playlists import Demo, make_demo
from tests.integration.test_cli_match import cratedigger

DEMO_LOGIN = {"BEATPORT_USERNAME": "demo", "BEATPORT_PASSWORD": "demo"}


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("signin"), tracks=40, seed=23)


def store_env(folder: Path, **more: str) -> dict[str, str]:
    return {"CRATEDIGGER_CONFIG_DIR": str(folder), **more}


def match_args(demo: Demo, base_url: str, out: Path, *more: str | Path) -> list[str | Path]:
    return [
        "match",
        demo.xml,
        "--playlist",
        demo.playlist,
        "--base-url",
        base_url,
        "--no-cache",
        "--no-progress",
        "--out",
        out,
        *more,
    ]


def journal(base_url: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = requests.get(f"{base_url}/__admin/requests", timeout=5).json()[
        "requests"
    ]
    return entries


def test_a_new_user_logs_in_then_matches_in_every_mode_with_no_token_option(
    demo: Demo, mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    server = mock_server_factory(journal_size=5000)
    base, folder = server.base_url, tmp_path / "config"
    login = cratedigger("login", "--base-url", base, env=store_env(folder, **DEMO_LOGIN))
    assert login.returncode == 0, login.stderr
    assert login.stdout == (
        f"signed in to {base} as demo <demo@example.com>; the token is stored in "
        f"{folder / FILE_NAME}\n"
    )
    # The steps real clients take, in order: the docs page and its script, login,
    # authorization, token.
    routes = [(e["method"], e["target"].partition("?")[0], e["status"]) for e in journal(base)]
    assert [r[1] for r in routes] == [
        "/v4/docs/",
        routes[1][1],
        "/v4/auth/login/",
        "/v4/auth/o/authorize/",
        "/v4/auth/o/token/",
    ]
    assert routes[1][1].endswith(".js") and [r[2] for r in routes] == [200, 200, 200, 302, 200]
    outputs = {}
    for mode in MODES:
        requests.post(f"{base}/__admin/reset", timeout=5).raise_for_status()
        out = tmp_path / f"{mode}.json"
        done = cratedigger(*match_args(demo, base, out, "--mode", mode), env=store_env(folder))
        assert done.returncode == 0, done.stderr
        outputs[mode] = out.read_bytes()
        entries = journal(base)
        assert [e for e in entries if e["route"] == "token"] == []  # the stored token served
        assert {e["status"] for e in entries} == {200}
    assert outputs["sync"] == outputs["threads"] == outputs["async"]
    assert any(r["status"] == "matched" for r in read_results(tmp_path / "sync.json"))


def test_the_token_file_is_private_and_holds_no_password(
    mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    people = tmp_path / "accounts.toml"
    people.write_text(
        '[[account]]\nusername = "dj"\npassword = "S3cret-pa55word"\n', encoding="utf-8"
    )
    server = mock_server_factory(accounts=str(people))
    folder = tmp_path / "new" / "config"
    secret = {"BEATPORT_USERNAME": "dj", "BEATPORT_PASSWORD": "S3cret-pa55word"}
    login = cratedigger("login", "--base-url", server.base_url, env=store_env(folder, **secret))
    assert login.returncode == 0, login.stderr
    path = folder / FILE_NAME
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    entry = json.loads(path.read_text())["tokens"][server.base_url]
    assert set(entry) == {
        "access_token",
        "refresh_token",
        "client_id",
        "expires_at",
        "lifetime",
        "username",
        "email",
        "scope",
    }
    assert (entry["username"], entry["email"]) == ("dj", "dj@example.com")
    assert entry["lifetime"] == 36000 and entry["scope"] == "app:docs user:dj"
    assert "S3cret-pa55word" not in path.read_text() + login.stdout + login.stderr
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


def test_whoami_and_logout(mock_server: str, tmp_path: Path) -> None:
    env = store_env(tmp_path)
    assert (
        cratedigger("login", "--base-url", mock_server, env={**env, **DEMO_LOGIN}).returncode == 0
    )
    who = cratedigger("whoami", "--base-url", mock_server, env=env)
    assert (who.returncode, who.stdout) == (0, f"demo <demo@example.com> on {mock_server}\n")
    out = cratedigger("logout", "--base-url", mock_server, env=env)
    assert out.returncode == 0
    assert out.stdout == (
        f"signed out of {mock_server}: its token is removed from {tmp_path / FILE_NAME}\n"
    )
    again = cratedigger("logout", "--base-url", mock_server, env=env)
    assert again.stdout == f"not signed in to {mock_server}: nothing to remove\n"
    nobody = cratedigger("whoami", "--base-url", mock_server, env=env)
    assert nobody.returncode == 1
    assert nobody.stderr == (
        f"cratedigger: error: not signed in to {mock_server}; sign in with "
        f"`cratedigger login --base-url {mock_server}`\n"
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            [],
            {"BEATPORT_USERNAME": "demo", "BEATPORT_PASSWORD": "wrong-Pa55word"},
            "signing in: Beatport refused the sign-in: Unable to log in with provided credentials.",
        ),
        (
            ["--client-id", "no-such-client"],
            DEMO_LOGIN,
            "authorizing: Beatport refused the authorization: Invalid client_id parameter value.",
        ),
    ],
    ids=["wrong-password", "unknown-client"],
)
def test_a_refused_login_says_why_in_one_line_and_stores_nothing(
    mock_server: str, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    done = cratedigger("login", "--base-url", mock_server, *args, env=store_env(tmp_path, **env))
    assert done.returncode == 1
    assert done.stderr == f"cratedigger: error: {message}\n"
    assert "wrong-Pa55word" not in done.stdout + done.stderr
    assert not (tmp_path / FILE_NAME).exists()


def test_login_asks_for_the_username_and_refuses_to_go_on_without_one(
    mock_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    monkeypatch.setenv("CRATEDIGGER_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("BEATPORT_USERNAME", raising=False)
    monkeypatch.setenv("BEATPORT_PASSWORD", "demo")
    monkeypatch.setattr("sys.stdin", io.StringIO("demo@example.com\n"))
    assert main(["login", "--base-url", mock_server]) == 0
    captured = capsys.readouterr()
    assert captured.err == "Beatport username: "
    assert "as demo <demo@example.com>" in captured.out
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["login", "--base-url", mock_server]) == 2
    assert "needs a username and a password" in capsys.readouterr().err


def test_login_to_a_server_that_is_not_there_says_so(tmp_path: Path) -> None:
    done = cratedigger(
        "login", "--base-url", "http://127.0.0.1:9", env=store_env(tmp_path, **DEMO_LOGIN)
    )
    assert done.returncode == 1
    assert done.stderr.startswith(
        "cratedigger: error: finding the client id: cannot reach http://127.0.0.1:9 ("
    )


# -- expiry ---------------------------------------------------------------------------------


@pytest.fixture
def expiring(mock_server_factory: ServerFactory, tmp_path: Path) -> Iterator[tuple[str, FakeClock]]:
    """A mock whose refresh tokens live an hour, with a signed-in store in tmp_path."""
    clock = FakeClock()
    server = mock_server_factory(clock=clock, refresh_token_ttl=3600, latency="fixed:3ms")
    done = cratedigger(
        "login", "--base-url", server.base_url, env=store_env(tmp_path, **DEMO_LOGIN)
    )
    assert done.returncode == 0, done.stderr
    yield server.base_url, clock


def test_a_sign_in_that_cannot_be_renewed_says_so_in_one_line(
    demo: Demo, expiring: tuple[str, FakeClock], tmp_path: Path
) -> None:
    base, clock = expiring
    clock.now += 36_000  # the access token and its refresh token are dead
    out = tmp_path / "r.json"
    done = cratedigger(*match_args(demo, base, out), env=store_env(tmp_path))
    assert done.returncode == 1
    assert done.stderr == (
        f"cratedigger: error: the server refused the stored sign-in to {base} (it expired, "
        "was revoked, or the server forgot it, as a restarted mock does); sign in again with "
        f"`cratedigger login --base-url {base}`\n"
    )
    # No track turned into an error, and a run that did nothing leaves --out as it was
    # (here: absent), with no journal.
    assert not out.exists() and not journal_path(out).exists()
    who = cratedigger("whoami", "--base-url", base, env=store_env(tmp_path))
    assert (who.returncode, who.stderr) == (1, done.stderr)


def test_a_sign_in_that_dies_mid_run_stops_it_then_login_and_resume_finish_it(
    demo: Demo,
    expiring: tuple[str, FakeClock],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    base, clock = expiring
    monkeypatch.setenv("CRATEDIGGER_CONFIG_DIR", str(tmp_path))
    out = tmp_path / "r.json"
    stop = threading.Event()

    def kill_the_sign_in() -> None:  # once 20 tracks' requests were answered
        while not stop.is_set():
            if requests.get(f"{base}/__admin/stats", timeout=5).json()["requests"]["total"] >= 25:
                clock.now += 36_000
                return
            time.sleep(0.002)

    killer = threading.Thread(target=kill_the_sign_in)
    killer.start()
    try:
        code = main([str(a) for a in match_args(demo, base, out)])
    finally:
        stop.set()
        killer.join()
    err = capsys.readouterr().err
    assert code == 1
    (line,) = err.splitlines()
    done = len(read_results(out))
    assert 0 < done < len(demo.entries)
    assert line == (
        f"cratedigger: error: the server refused the stored sign-in to {base} (it expired, "
        "was revoked, or the server forgot it, as a restarted mock does); sign in again with "
        f"`cratedigger login --base-url {base}`, then finish with --resume ({done} of "
        f"{len(demo.entries)} tracks are done and kept in {out})"
    )
    assert all(r["status"] != "error" for r in read_results(out))
    monkeypatch.setenv("BEATPORT_USERNAME", "demo")
    monkeypatch.setenv("BEATPORT_PASSWORD", "demo")
    assert main(["login", "--base-url", base]) == 0
    assert main([str(a) for a in match_args(demo, base, out, "--resume")]) == 0
    clean = tmp_path / "clean.json"
    assert main([str(a) for a in match_args(demo, base, clean)]) == 0
    assert out.read_bytes() == clean.read_bytes()


# -- no token anywhere -----------------------------------------------------------------------


def test_no_token_reaches_the_output_metrics_results_or_journal(
    demo: Demo, mock_server: str, tmp_path: Path
) -> None:
    env = store_env(tmp_path)
    login = cratedigger("login", "--base-url", mock_server, env={**env, **DEMO_LOGIN})
    assert login.returncode == 0
    # Make the stored token due for renewal (a minute left): the run renews it first.
    document = json.loads((tmp_path / FILE_NAME).read_text())
    document["tokens"][mock_server]["expires_at"] = time.time() + 60
    (tmp_path / FILE_NAME).write_text(json.dumps(document))
    before = TokenFile(tmp_path).load(mock_server)
    out, table, metrics = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "m.json"
    run = cratedigger(
        *match_args(
            demo, mock_server, out, "--csv", table, "--metrics", metrics, "--mode", "async"
        ),
        env=env,
    )
    assert run.returncode == 0, run.stderr
    after = TokenFile(tmp_path).load(mock_server)
    assert before is not None and after is not None
    assert after.access_token != before.access_token  # renewed, and written back
    secrets = {
        before.access_token,
        after.access_token,
        before.refresh_token,
        after.refresh_token,
    }
    config = cratedigger("config", "--base-url", mock_server, env=env)
    who = cratedigger("whoami", "--base-url", mock_server, env=env)
    texts = [login.stdout, login.stderr, run.stdout, run.stderr, config.stdout, who.stdout]
    files = [out, table, metrics, journal_path(out)]
    texts += [path.read_text() for path in files if path.exists()]
    assert len(texts) >= 9  # the journal is gone once the run is complete
    for secret in secrets:
        assert secret
        for text in texts:
            assert secret not in text
    assert os.environ.get("BEATPORT_TOKEN") is None
