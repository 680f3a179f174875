"""What a matching run needs to know, as one value object every driver takes."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from cratedigger.exchange import Context, Credentials, TokenBox
from cratedigger.metrics import Collector
from cratedigger.pacing import Pacer, RateLimit
from cratedigger.protocol.api import ApiSource
from cratedigger.protocol.base import Source
from cratedigger.protocol.web import WebSource
from cratedigger.retry import RetryPolicy
from cratedigger.scoring import RULES, Rules

# The real Beatport, per source; `--base-url` replaces it (the mock serves both surfaces).
DEFAULT_BASE_URLS = {"api": "https://api.beatport.com", "web": "https://www.beatport.com"}
SOURCES: dict[str, type[ApiSource] | type[WebSource]] = {"api": ApiSource, "web": WebSource}


@dataclass(frozen=True)
class MatchOptions:
    source: str = "api"
    base_url: str | None = None
    concurrency: int = 16
    timeout: float = 10.0
    retries: int = 4
    rate_limit: RateLimit = field(default_factory=RateLimit)
    cache_dir: Path | None = None  # None: no cache
    cache_ttl: float = 7 * 24 * 3600.0
    credentials: Credentials = field(default_factory=Credentials)
    rules: Rules = RULES
    seed: int | None = None  # seeds the retry jitter (results never depend on it)

    @property
    def url(self) -> str:
        return (self.base_url or DEFAULT_BASE_URLS[self.source]).rstrip("/")

    def make_source(self) -> Source:
        try:
            return SOURCES[self.source]()
        except KeyError:
            raise ValueError(f"unknown source {self.source!r} (expected api or web)") from None

    @property
    def needs_token(self) -> bool:
        return self.source == "api"


DEFAULT_OPTIONS = MatchOptions()


def build_context(options: MatchOptions, collector: Collector | None = None) -> Context:
    """The shared state of one run: source, retry policy, pacer, cache, token."""
    from cratedigger.cache import ResponseCache  # sqlite is only loaded when a cache is used

    cache = (
        ResponseCache(options.cache_dir, ttl=options.cache_ttl)
        if options.cache_dir is not None
        else None
    )
    return Context(
        source=options.make_source(),
        base_url=options.url,
        policy=RetryPolicy(retries=options.retries),
        pacer=Pacer(options.rate_limit),
        cache=cache,
        collector=collector,
        credentials=options.credentials,
        tokens=TokenBox(options.credentials.token),
        jitter=random.Random(options.seed).random,
    )
