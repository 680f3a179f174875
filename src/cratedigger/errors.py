"""The one exception root of cratedigger, and the errors that carry their context."""

from __future__ import annotations


class CratediggerError(Exception):
    """Root of every error cratedigger raises on purpose."""


class InputError(CratediggerError):
    """A user-supplied file or value is wrong; the message names the file, line and problem.

    The CLI prints it as one line and exits with code 2.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = path or ""
        if path and line is not None:
            where = f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class ParseError(CratediggerError):
    """A response body the protocol cannot read (truncated, not JSON, wrong schema)."""

    def __init__(self, message: str, *, target: str = "") -> None:
        self.target = target
        super().__init__(f"{target}: {message}" if target else message)


class OutputError(CratediggerError):
    """A result file could not be written during a run (a full or failing disk).

    The run stops there; what its journal holds is kept for `--resume`. The CLI says so in
    one line and exits with code 3, like any run stopped early.
    """

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")
