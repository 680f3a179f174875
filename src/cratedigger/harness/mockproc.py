"""The embedded mock server, in its own process so it never shares the client's CPU or RSS."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from types import TracebackType
from typing import Any

from cratedigger.errors import CratediggerError

READY_PREFIX = "mockserver listening on "


class MockProcess:
    """`python -m mockserver serve --port 0 ...` as a context manager; admin calls over HTTP."""

    def __init__(self, *, seed: int = 1, catalog_size: int = 20000, startup: float = 60.0) -> None:
        self.args = [
            sys.executable,
            "-m",
            "mockserver",
            "serve",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--catalog-size",
            str(catalog_size),
        ]
        self.startup = startup
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> MockProcess:
        self._proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self._proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self._proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.startup
        try:
            while time.monotonic() < deadline:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    break
                line = self._proc.stdout.readline()
                if not line:
                    break
                if line.startswith(READY_PREFIX):
                    self.base_url = line[len(READY_PREFIX) :].strip()
                    return self
        finally:
            selector.close()
        self.__exit__(None, None, None)
        raise CratediggerError("the embedded mock server did not start")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()
        self._proc = None

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        import psutil

        assert self._proc is not None, "not started"
        times = psutil.Process(self._proc.pid).cpu_times()
        return float(times.user + times.system)

    def admin(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        """Call the mock's admin API (`/__admin/<name>`); the decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/__admin/{name}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")

    def configure(self, *, latency: str, rate_limit: str, faults: str) -> None:
        """Switch the live server to a case's behaviour and clear its statistics."""
        self.admin(
            "PATCH",
            "config",
            {
                "latency": [latency],
                "rate_limit": rate_limit,
                "faults": [faults or "off"],
            },
        )
        self.admin("POST", "reset")
