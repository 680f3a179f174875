"""A server in a process of its own: the mock (or a server module like it) on a free port.

    with MockProcess("--seed", "1", "--latency", "fixed:20ms") as mock:
        mock.base_url           # "http://127.0.0.1:40123"
        mock.configure(latency="fixed:50ms", rate_limit="off", faults="")
        mock.cpu_seconds()      # user + system CPU the server has used so far

It runs `python -m mockserver serve --port 0 ARGS` (or `python -m MODULE --port 0 ARGS`
for another server module that prints the same ready line), waits for the line
"mockserver listening on URL", and stops the server with SIGINT, then SIGTERM, then
SIGKILL. The harness (`cratedigger bench`), asv, the transport and throughput benchmarks
and the tests use it: a benchmark's client then never shares its CPU, memory or GIL with
the server it measures.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Final

import psutil

from mockserver.errors import MockServerError

__all__ = ["READY_PREFIX", "MockProcess", "ProcessStartError"]

READY_PREFIX: Final = "mockserver listening on "
STOP_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
STOP_WAIT: Final = 10.0  # seconds each stop signal gets before the next


class ProcessStartError(MockServerError):
    """The server process exited, or printed no ready line in time."""


class MockProcess:
    """`python -m mockserver serve --port 0 *args` as a context manager (see the module)."""

    def __init__(
        self,
        *args: str,
        module: str = "mockserver",
        startup: float = 120.0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        command = [module, "serve"] if module == "mockserver" else [module]
        self.args = [sys.executable, "-m", *command, "--port", "0", *args]
        self.startup = startup
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._psutil: psutil.Process | None = None

    @classmethod
    def mock(
        cls, *, seed: int = 1, catalog_size: int = 20_000, args: Sequence[str] = (), **kw: Any
    ) -> MockProcess:
        """The mock for a seeded catalog, with more `serve` options in `args`."""
        return cls("--seed", str(seed), "--catalog-size", str(catalog_size), *args, **kw)

    def __enter__(self) -> MockProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return urllib.parse.urlsplit(self.base_url).port or 0

    @property
    def host(self) -> str:
        """`host:port` as a Host header names it."""
        return urllib.parse.urlsplit(self.base_url).netloc

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise ProcessStartError("the server is not running")
        return self._proc.pid

    def start(self) -> None:
        """Start the process and wait for its ready line (ProcessStartError if none comes)."""
        proc = self._proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=self.env
        )
        assert proc.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.startup
        closed = False  # the server closed its output: it is exiting
        try:
            while (left := deadline - time.monotonic()) > 0 and selector.select(timeout=left):
                line = proc.stdout.readline()
                if not line:
                    closed = True
                    break
                if line.startswith(READY_PREFIX):
                    self.base_url = line[len(READY_PREFIX) :].strip()
                    self._psutil = psutil.Process(proc.pid)
                    return
        finally:
            selector.close()
        try:
            code = proc.wait(timeout=STOP_WAIT) if closed else proc.poll()
        except subprocess.TimeoutExpired:
            code = None
        self.stop()
        why = (
            f"exited with status {code}"
            if code is not None
            else "closed its output"
            if closed
            else f"not ready in {self.startup} s"
        )
        raise ProcessStartError(f"{' '.join(self.args[2:])}: {why}")

    def stop(self) -> None:
        """SIGINT (a clean stop), SIGTERM, then SIGKILL, each after the last had its time;
        idempotent."""
        proc, self._proc, self._psutil = self._proc, None, None
        if proc is None:
            return
        for signum in STOP_SIGNALS:
            if proc.poll() is not None:
                break
            proc.send_signal(signum)
            try:
                proc.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                continue
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        times = self._process().cpu_times()
        return float(times.user + times.system)

    def rss(self) -> int:
        """The server process's resident memory, in bytes."""
        return int(self._process().memory_info().rss)

    def _process(self) -> psutil.Process:
        if self._psutil is None:
            raise ProcessStartError("the server is not running")
        return self._psutil

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
        """Switch the live server to this behaviour and clear its statistics."""
        self.admin(
            "PATCH",
            "config",
            {"latency": [latency], "rate_limit": rate_limit, "faults": [faults or "off"]},
        )
        self.admin("POST", "reset")

    def api_token(self, client_id: str = "bench") -> str:
        """A fresh API access token from the mock's token endpoint."""
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id})
        request = urllib.request.Request(
            f"{self.base_url}/v4/auth/o/token/", data=form.encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            return str(json.loads(answer.read())["access_token"])
