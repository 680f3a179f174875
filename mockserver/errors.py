"""The mock server's exceptions: one root, and errors that name what the user got wrong."""

from __future__ import annotations

__all__ = ["MockServerError", "ReplayError", "SpecError"]


class MockServerError(Exception):
    """Root of every error the mock server raises on purpose."""


class SpecError(MockServerError):
    """A bad behaviour spec or setting; `option` names where it came from ("--latency",
    "mock.toml: latency", "PATCH /__admin/config: faults")."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class ReplayError(MockServerError):
    """A HAR file that cannot be replayed; names the file and, when known, the entry index."""

    def __init__(self, path: str, message: str, entry: int | None = None) -> None:
        where = path if entry is None else f"{path}: entry {entry}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.entry = entry
        self.message = message
