"""What the HTTP transports of every driver share."""

from __future__ import annotations

from collections.abc import Iterable

USER_AGENT = "cratedigger/0.1 (+https://github.com/cratedigger)"


def lower_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A response's headers with lower-case names: the core reads them without case folding."""
    return {name.lower(): value for name, value in items}
