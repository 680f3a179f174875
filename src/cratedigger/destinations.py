"""Where a run writes, checked before its first request, so that no output destroys anything.

Every output (`--out`, `--csv`, `--xml-out`, `--metrics`, the journal) must not be an input
file (compared by resolved path and by inode, so a hard link or a symlink is caught too),
must be a regular file or not exist yet (FIFOs, devices, sockets and directories are
refused: an atomic rename would replace them), must not be another output, and its folder
must exist and be writable. A symlinked output is fine: the writers follow the link and
replace its target atomically, and the link stays.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cratedigger.errors import InputError


@dataclass(frozen=True, slots=True)
class Destination:
    """One output of a run: the option that named it and its path."""

    option: str
    path: Path


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def check_destinations(outputs: Sequence[Destination], inputs: Sequence[Path]) -> None:
    """Raise InputError (one line: the option, the path, the problem) for the first bad output."""
    read = {Path(os.path.realpath(p)): p for p in inputs}
    read_ids = {i: p for p in inputs if (i := _identity(p)) is not None}
    taken: dict[Path, str] = {}
    for output in outputs:
        target = Path(os.path.realpath(output.path))

        def refuse(problem: str, output: Destination = output) -> InputError:
            return InputError(f"{output.option}: {output.path}: {problem}")

        if target in read:
            raise refuse(f"is the input file {read[target]}; choose another name")
        if target in taken:
            raise refuse(f"is also the file of {taken[target]}")
        taken[target] = output.option
        try:
            found = os.stat(target)
        except FileNotFoundError:
            found = None
        except OSError as err:
            raise refuse(f"cannot be checked: {err.strerror}") from None
        if found is not None:
            if (found.st_dev, found.st_ino) in read_ids:
                raise refuse(f"is the input file {read_ids[found.st_dev, found.st_ino]}")
            if stat.S_ISDIR(found.st_mode):
                raise refuse("is a directory; give a file name")
            if not stat.S_ISREG(found.st_mode):
                raise refuse("is not a regular file (a FIFO, device or socket); not replacing it")
        folder = target.parent
        if not folder.is_dir():
            raise refuse(f"its folder {output.path.parent} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise refuse(f"its folder {output.path.parent} is not writable")


def real_target(path: Path) -> Path:
    """The file a write to `path` must replace: the end of its symlinks, if it has any."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path
