"""The bot-challenge mode: website requests answered as Cloudflare answers automated clients.

The real beatport.com now puts a Cloudflare challenge in front of clients it takes for
bots: a 403 with `cf-mitigated: challenge` and an HTML interstitial ("Just a moment...")
that only a browser running its script gets past; the page has no `__NEXT_DATA__`.

    web:after=N      the first N website requests are served, every later one challenged
    web:rate=R/s     website requests beyond R a second (a bucket of R) are challenged
    off

Only the website is challenged (paths outside `/v4/`); the API answers as before. The
challenge comes before the rate limit, faults and replay, as Cloudflare stands in front of
the origin.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from mockserver.errors import SpecError

__all__ = [
    "CHALLENGE_HEADERS",
    "CHALLENGE_PAGE",
    "ChallengeConfig",
    "Challenger",
    "challenge_response",
    "format_challenge",
    "parse_challenge",
]

SURFACES: Final = ("web",)
_SPEC: Final = re.compile(
    r"^\s*(?P<surface>[a-z]+)\s*:\s*(?:after\s*=\s*(?P<after>\d+)"
    r"|rate\s*=\s*(?P<rate>\d+(?:\.\d*)?|\.\d+)\s*/\s*s)\s*$"
)

CHALLENGE_HEADERS: Final = {
    "cf-mitigated": "challenge",
    "Cache-Control": "private, max-age=0, no-store, no-cache, must-revalidate, "
    "post-check=0, pre-check=0",
    "Expires": "Thu, 01 Jan 1970 00:00:01 GMT",
    "Server": "cloudflare",
}
CHALLENGE_PAGE: Final = (
    b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
    b'<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
    b'<meta name="robots" content="noindex,nofollow">'
    b'<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
    b'<body><div class="main-wrapper" role="main"><div class="main-content">'
    b'<h1 class="zone-name-title h1">www.beatport.com</h1>'
    b'<h2 class="h2">Verifying you are human. This may take a few seconds.</h2>'
    b"<noscript><div>Enable JavaScript and cookies to continue</div></noscript>"
    b"</div></div><script>(function(){window._cf_chl_opt={cvId: '3',cType: 'managed'};"
    b"var a=document.createElement('script');a.src='/cdn-cgi/challenge-platform/h/g/"
    b"orchestrate/chl_page/v1';document.getElementsByTagName('head')[0].appendChild(a);"
    b"}());</script></body></html>"
)


@dataclass(frozen=True, slots=True)
class ChallengeConfig:
    """Which website requests get the challenge: every one after the first `after`, or
    those beyond `rate` a second."""

    after: int | None = None
    rate: float | None = None


def parse_challenge(spec: str, option: str = "--challenge") -> ChallengeConfig | None:
    """Parse `web:after=N` or `web:rate=R/s`; `off` gives None."""
    if spec.strip().lower() in ("off", "none", ""):
        return None
    match = _SPEC.match(spec.lower())
    if match is None:
        raise SpecError(
            option, f"bad challenge {spec.strip()!r} (expected web:after=N or web:rate=R/s)"
        )
    if match["surface"] not in SURFACES:
        raise SpecError(option, f"unknown surface {match['surface']!r} (expected web)")
    if match["after"] is not None:
        return ChallengeConfig(after=int(match["after"]))
    rate = float(match["rate"])
    if rate <= 0:
        raise SpecError(option, "the rate must be positive (use 'off' to disable)")
    return ChallengeConfig(rate=rate)


def format_challenge(config: ChallengeConfig | None) -> str:
    """The spec that parses back to `config` ("off" for None)."""
    if config is None:
        return "off"
    if config.after is not None:
        return f"web:after={config.after}"
    return f"web:rate={config.rate:g}/s"


def challenge_response() -> web.Response:
    """The interstitial, as Cloudflare sends it."""
    return web.Response(
        status=403,
        body=CHALLENGE_PAGE,
        content_type="text/html",
        charset="UTF-8",
        headers=CHALLENGE_HEADERS,
    )


class Challenger:
    """Decides, request by request, whether a website request gets the challenge."""

    def __init__(self, config: ChallengeConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self._clock = clock
        self._seen = 0
        self._tokens = config.rate or 0.0
        self._refilled = clock()

    def challenges(self, path: str) -> bool:
        """Whether the request for `path` is challenged (and counts it)."""
        if path.startswith("/v4/"):
            return False
        after, rate = self.config.after, self.config.rate
        if after is not None:
            self._seen += 1
            return self._seen > after
        assert rate is not None
        now = self._clock()
        self._tokens = min(rate, self._tokens + (now - self._refilled) * rate)
        self._refilled = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return False
        return True

    def reset(self) -> None:
        """Count from zero again, with a full bucket."""
        self._seen = 0
        self._tokens = self.config.rate or 0.0
        self._refilled = self._clock()
