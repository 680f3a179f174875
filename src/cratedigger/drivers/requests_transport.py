"""The requests transport: sends one `Send` and maps requests' exceptions onto the core's."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter

from cratedigger.exchange import Send, SendResult
from cratedigger.models import Response
from cratedigger.retry import TransportError
from cratedigger.transport import USER_AGENT, lower_headers


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
