"""What a matching run needs to know, as one value object every driver takes."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from cratedigger.credentials import Credentials
from cratedigger.pacing import RateLimit
from cratedigger.protocol.api import ApiSource
from cratedigger.protocol.base import Source
from cratedigger.protocol.web import WebSource
from cratedigger.scoring import RULES, Rules
from cratedigger.settings import SETTINGS, EffectiveSettings, default_of

# The real Beatport, per source; `--base-url` replaces it (the mock serves both surfaces).
DEFAULT_BASE_URLS = {"api": "https://api.beatport.com", "web": "https://www.beatport.com"}
SOURCES: dict[str, type[ApiSource] | type[WebSource]] = {"api": ApiSource, "web": WebSource}


@dataclass(frozen=True)
class MatchOptions:
    """Defaults are those of the settings table (`cratedigger.settings.SETTINGS`)."""

    source: str = default_of("source")
    base_url: str | None = default_of("base_url")
    concurrency: int = default_of("concurrency")
    timeout: float = default_of("timeout")
    retries: int = default_of("retries")
    outage_timeout: float = default_of("outage_timeout")
    rate_limit: RateLimit = field(default_factory=lambda: default_of("rate_limit"))
    cache_dir: Path | None = None  # None: no cache (the CLI's default folder needs $HOME)
    cache_ttl: float = default_of("cache_ttl")
    credentials: Credentials = field(default_factory=Credentials)
    # The config folder whose token store a signed-in run writes its renewed tokens to.
    token_store: Path | None = None
    rules: Rules = RULES
    seed: int | None = None  # seeds the retry jitter (results never depend on it)

    @classmethod
    def from_settings(cls, settings: EffectiveSettings) -> MatchOptions:
        """The options of a run configured by the layered settings."""
        same = {s.name for s in SETTINGS} & {f.name for f in fields(cls)} - {"cache_dir"}
        return cls(
            **{name: getattr(settings, name) for name in same},
            cache_dir=None if settings.no_cache else settings.cache_dir,
            credentials=Credentials(
                token=settings.token,
                client_id=settings.client_id,
                client_secret=settings.client_secret or "",
            ),
        )

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
