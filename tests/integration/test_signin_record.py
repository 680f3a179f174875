"""A sign-in recorded through the recording proxy leaves no secret in the HAR, and replaying
the HAR signs in again: `cratedigger login` and `whoami` work against the replay alone."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from cratedigger.tokenstore import TokenFile
from mockserver.accounts import POST_MESSAGE_URI, PUBLIC_CLIENT
from mockserver.record import RecordConfig, recording_proxy
from mockserver.redact import REDACTED
from mockserver.replay import load_har
from mockserver.runner import running_server
from mockserver.settings import settings_from
from tests.integration.conftest import ServerFactory
from tests.integration.test_cli_match import cratedigger

PASSWORD = "Pa55word-only-in-the-request"
TIMEOUT = 10


def test_a_recorded_sign_in_keeps_no_secret_and_replays(
    mock_server_factory: ServerFactory, tmp_path: Path
) -> None:
    people = tmp_path / "accounts.toml"
    people.write_text(f'[[account]]\nusername = "dj"\npassword = "{PASSWORD}"\n')
    upstream = mock_server_factory(accounts=str(people), catalog_size=300)
    har, config = tmp_path / "signin.har", tmp_path / "config"
    env = {"CRATEDIGGER_CONFIG_DIR": str(config)}
    secrets: set[str] = {PASSWORD}
    with recording_proxy(RecordConfig(upstream=upstream.base_url, out=har, port=0)) as proxy:
        base = proxy.base_url
        # The sign-in by hand, to know every secret it carries...
        session = requests.Session()
        login = session.post(
            f"{base}/v4/auth/login/",
            json={"username": "dj", "password": PASSWORD},
            timeout=TIMEOUT,
        )
        secrets |= {login.cookies["sessionid"], login.cookies["csrftoken"]}
        authorize = session.get(
            f"{base}/v4/auth/o/authorize/",
            params={
                "response_type": "code",
                "client_id": PUBLIC_CLIENT.client_id,
                "redirect_uri": POST_MESSAGE_URI,
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
        token = requests.post(
            f"{base}/v4/auth/o/token/",
            params={
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": POST_MESSAGE_URI,
                "client_id": PUBLIC_CLIENT.client_id,
            },
            timeout=TIMEOUT,
        ).json()
        secrets |= {code, token["access_token"], token["refresh_token"]}
        # ...and as the user does it: login, then whoami.
        signed = cratedigger(
            "login",
            "--base-url",
            base,
            env=env | {"BEATPORT_USERNAME": "dj", "BEATPORT_PASSWORD": PASSWORD},
        )
        assert signed.returncode == 0, signed.stderr
        stored = TokenFile(config).load(base)
        assert stored is not None and stored.refresh_token is not None
        secrets |= {stored.access_token, stored.refresh_token}
        who = cratedigger("whoami", "--base-url", base, env=env)
        assert who.stdout == f"dj <dj@example.com> on {base}\n", who.stderr
    text = har.read_text()
    for secret in secrets:
        assert secret not in text
    assert PASSWORD not in (config / "tokens.json").read_text()
    assert f"sessionid={REDACTED}" in text and f"code={REDACTED}" in text
    # by hand: login, authorize, token; the CLI: docs page, script, login, authorize, token,
    # then whoami's account
    assert len(load_har(har)) == 3 + 6

    # Replayed alone (strict: nothing reaches the mock's own handlers), the sign-in works.
    replay_config = tmp_path / "replayed"
    replay_env = {"CRATEDIGGER_CONFIG_DIR": str(replay_config)}
    settings = settings_from(
        {}, {"port": 0, "catalog_size": 300, "replay": [str(har)], "replay_strict": True}
    )
    with running_server(settings) as replay:
        again = cratedigger(
            "login",
            "--base-url",
            replay.base_url,
            env=replay_env | {"BEATPORT_USERNAME": "dj", "BEATPORT_PASSWORD": "anything"},
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"signed in to {replay.base_url} as dj <dj@example.com>")
        who = cratedigger("whoami", "--base-url", replay.base_url, env=replay_env)
        assert who.stdout == f"dj <dj@example.com> on {replay.base_url}\n", who.stderr
