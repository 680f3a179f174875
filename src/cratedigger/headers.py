"""What a server's answer headers say about waiting and rate limits. Pure.

Header names are lower case here: the drivers lower-case them once when they build a
`Response`, so nothing downstream copies or case-folds a header mapping again. Each 429's
hint is read once by the exchange and handed to both the pacer and the retry policy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

Headers = Mapping[str, str]  # names in lower case


def number(raw: str | None) -> float | None:
    """A finite number out of a header value (quotes and spaces tolerated), else None."""
    if raw is None:
        return None
    try:
        value = float(raw.strip().strip('"'))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def retry_after_seconds(headers: Headers, now: float | None) -> float | None:
    """Seconds to wait from Retry-After (delta-seconds or HTTP-date) or a rate-limit reset.

    `now` is the wall clock (seconds since the epoch) for HTTP-dates, which are not read
    without it. The largest of the hints wins: waiting too little only earns another 429.
    """
    hints: list[float] = []
    raw = headers.get("retry-after")
    if raw is not None:
        hint = _delta_or_date(raw, now)
        if hint is not None:
            hints.append(hint)
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        value = number(headers.get(name))
        if value is not None and value < 10**9:  # an epoch timestamp is not a delay
            hints.append(value)
    ratelimit = headers.get("ratelimit")
    if ratelimit:
        reset = _structured_param(ratelimit, "t") or _structured_param(ratelimit, "reset")
        if reset is not None:
            hints.append(reset)
    return max(hints) if hints else None


def announced_rate(headers: Headers) -> float | None:
    """Requests per second a server announces: `RateLimit-Policy: 20;w=1` or X-RateLimit-*."""
    policy = headers.get("ratelimit-policy")
    if policy:
        first = policy.split(",")[0]
        parts = [p.strip() for p in first.split(";")]
        quota = _positive(parts[0]) if parts and "=" not in parts[0] else None
        window = 1.0
        for part in parts:
            key, _, value = part.partition("=")
            if key == "q":
                quota = _positive(value)
            elif key == "w":
                window = _positive(value) or 1.0
        if quota:
            return quota / window
    limit = _positive(headers.get("x-ratelimit-limit"))
    if limit:
        window = _positive(headers.get("x-ratelimit-window")) or 1.0
        return limit / window
    return None


def _positive(raw: str | None) -> float | None:
    value = number(raw)
    return value if value is not None and value > 0 else None


def _delta_or_date(raw: str, now: float | None) -> float | None:
    value = number(raw)
    if value is not None:
        return max(value, 0.0)
    if now is None:
        return None
    try:
        # RFC 9110 IMF-fixdate; email.utils would parse it too but drags in `socket`.
        when = datetime.strptime(raw.strip(), "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    except ValueError:
        return None
    return max(when.timestamp() - now, 0.0)


def _structured_param(header: str, name: str) -> float | None:
    """Reads `name=<number>` out of an IETF RateLimit field such as `"default";r=0;t=1`."""
    for part in header.replace(",", ";").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return number(value)
    return None
