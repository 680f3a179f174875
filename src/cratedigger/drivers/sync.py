"""The synchronous driver: one requests.Session, one request at a time. The default mode."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar, Unpack

import requests
from requests.adapters import HTTPAdapter

from cratedigger.drivers.base import Batch, PlaylistRun, RunArgs
from cratedigger.drivers.session import Session
from cratedigger.exchange import Send, SendResult, Sleep
from cratedigger.metrics import Collector
from cratedigger.models import LocalTrack, MatchResult, Response
from cratedigger.options import DEFAULT_OPTIONS, MatchOptions
from cratedigger.retry import TransportError
from cratedigger.transport import USER_AGENT, lower_headers

T = TypeVar("T")


class RequestsTransport:
    """Sends one `Send` with requests; maps its exceptions onto `TransportError`."""

    def __init__(
        self, base_url: str, timeout: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.clock = clock
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        # requests looks up the proxy variables and ~/.netrc in the environment on every
        # request: about 0.4 ms each time here, a fifth of the sync client's CPU. Every request
        # goes to the one base URL, so take the environment's proxies and CA bundle for it
        # once, as requests would, and stop the per-request lookups.
        found = self.session.merge_environment_settings(base_url, {}, None, None, None)
        self.session.proxies.update(found["proxies"])
        self.session.verify = found["verify"]
        self.session.trust_env = False

    def send(self, action: Send) -> SendResult:
        request = action.request
        started = self.clock()
        try:
            response = self.session.request(
                request.method,
                request.url(self.base_url),
                data=dict(request.form) if request.form is not None else None,
                headers=dict(action.headers),
                timeout=self.timeout,
            )
            body = response.content
        except requests.Timeout as err:
            return SendResult(TransportError("timeout", _name(err)), started, self.clock())
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as err:
            return SendResult(TransportError("payload", _name(err)), started, self.clock())
        except requests.RequestException as err:
            return SendResult(TransportError("connection", _name(err)), started, self.clock())
        answer = Response(response.status_code, body, lower_headers(response.headers.items()))
        return SendResult(answer, started, self.clock())

    def close(self) -> None:
        self.session.close()


def _name(err: Exception) -> str:
    return type(err).__name__


class SyncDriver:
    """Carries out a job's actions one after another: time.sleep, requests, the cache."""

    def __init__(self, session: Session, transport: RequestsTransport) -> None:
        self.session = session
        self.transport = transport

    def drive(self, gen: Generator[Any, Any, T]) -> T:
        """Run a job, an exchange or the authentication to its end; its return value."""
        feedback: Any = None
        try:
            while True:
                action = gen.send(feedback)
                if isinstance(action, Send):
                    feedback = self.transport.send(action)
                elif isinstance(action, Sleep):
                    time.sleep(action.seconds)
                    feedback = None
                elif isinstance(action, Batch):
                    feedback = [self.drive(e) for e in action.exchanges]
                else:
                    feedback = self.session.touch_cache(action)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            gen.close()


def match_playlist(
    tracks: Sequence[LocalTrack], options: MatchOptions = DEFAULT_OPTIONS, **args: Unpack[RunArgs]
) -> list[MatchResult]:
    """Match tracks one after another; skips the indices in `done` (resume)."""
    with PlaylistRun(tracks, options, **args) as run:
        transport = RequestsTransport(run.ctx.base_url, options.timeout, run.ctx.clock)
        try:
            driver = SyncDriver(run.session, transport)
            if run.proceed(driver.drive(run.authentication())):
                for index in run.pending:
                    driver.drive(run.job(index))
        finally:
            transport.close()
        return run.ordered()


def match_track(
    track: LocalTrack, options: MatchOptions = DEFAULT_OPTIONS, collector: Collector | None = None
) -> MatchResult:
    """Match a single track synchronously."""
    return match_playlist([track], options, collector=collector)[0]
