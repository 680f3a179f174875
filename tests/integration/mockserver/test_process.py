"""`MockProcess`: the mock (or a server module like it) in a process of its own."""

from __future__ import annotations

import os
import time

import pytest
import requests

from mockserver.process import MockProcess, ProcessStartError

TIMEOUT = 10


def test_the_mock_in_its_own_process() -> None:
    with MockProcess.mock(catalog_size=300, args=("--no-prerender",)) as mock:
        assert mock.base_url.startswith("http://127.0.0.1:") and mock.port > 0
        assert mock.host == f"127.0.0.1:{mock.port}"
        token = mock.api_token()
        auth = {"Authorization": f"Bearer {token}"}
        answer = requests.get(f"{mock.base_url}/v4/my/account/", headers=auth, timeout=TIMEOUT)
        assert answer.status_code == 200
        mock.configure(latency="fixed:1ms", rate_limit="off", faults="")
        assert mock.admin("GET", "config")["latency"] == ["fixed:1ms"]
        assert mock.admin("GET", "stats")["requests"]["total"] == 0  # configure resets
        assert mock.cpu_seconds() > 0 and mock.rss() > 10 << 20
        pid = mock.pid
    with pytest.raises(ProcessStartError):
        mock.cpu_seconds()  # stopped
    mock.stop()  # idempotent
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, not left behind


def test_a_server_that_cannot_start_is_reported_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(ProcessStartError, match="exited with status 2"):
        MockProcess("--latency", "bogus").start()
    assert time.monotonic() - started < 30
