"""The requests transport takes the environment's proxy and CA settings once per session."""

from __future__ import annotations

import pytest

from cratedigger.drivers.requests_transport import RequestsTransport

ENVIRONMENT = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_the_environments_proxy_is_used_without_a_lookup_per_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    transport = RequestsTransport("https://api.beatport.com", timeout=5)
    try:
        assert transport.session.proxies.get("https") == "http://proxy.example:3128"
        assert transport.session.trust_env is False
    finally:
        transport.close()


def test_no_proxy_still_exempts_the_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    transport = RequestsTransport("http://127.0.0.1:8080", timeout=5)
    try:
        assert "http" not in transport.session.proxies
    finally:
        transport.close()


def test_a_ca_bundle_from_the_environment_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/corporate.pem")
    transport = RequestsTransport("https://api.beatport.com", timeout=5)
    try:
        assert transport.session.verify == "/etc/ssl/certs/corporate.pem"
    finally:
        transport.close()


def test_without_settings_in_the_environment_nothing_changes() -> None:
    transport = RequestsTransport("https://api.beatport.com", timeout=5)
    try:
        assert transport.session.proxies == {}
        assert transport.session.verify is True
    finally:
        transport.close()
