"""Result files: atomic JSON/CSV writers and the checkpointing, resumable ResultSink.

Every file is written to a temporary sibling, fsynced and renamed over the target, so a
crash leaves either the old file or the new one, never half of one. While a run is going
each result is also appended to a journal (`<out>.partial.jsonl`) that `load_resume` reads.

The result JSON says which run it belongs to (`RunIdentity`: the library, the playlist and
a hash of its entries), and so does the journal's first line: `--resume` refuses to mix the
results of one playlist into another's file unless forced.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

from cratedigger.destinations import real_target
from cratedigger.errors import InputError, OutputError
from cratedigger.models import RESULT_FIELDS, MatchResult

__all__ = [
    "FORMAT",
    "ResultSink",
    "RunIdentity",
    "journal_path",
    "load_resume",
    "read_results",
    "render_csv",
    "render_json",
    "write_bytes_atomic",
    "write_csv_atomic",
    "write_json_atomic",
]

Row = Mapping[str, object]
FORMAT = "cratedigger-results/1"
_FINISHED = frozenset({"matched", "unmatched"})  # "error" entries are retried on resume
_STATUSES = frozenset({"matched", "unmatched", "error"})


@dataclass(frozen=True, slots=True)
class RunIdentity:
    """Which run a result file belongs to: the library, the playlist, its entries (hashed)."""

    library: str = ""  # the library's resolved path
    playlist: str = ""  # the playlist's path in the Rekordbox tree
    entries: str = ""  # "sha256:..." of the entries' TrackIDs in playlist order

    @classmethod
    def of(cls, library: Path | None, playlist: str, entry_ids: Sequence[str]) -> RunIdentity:
        digest = hashlib.sha256("\n".join(entry_ids).encode("utf-8")).hexdigest()
        where = str(library.resolve()) if library is not None else ""
        return cls(where, playlist, f"sha256:{digest}")

    def header(self) -> dict[str, str]:
        return {"library": self.library, "playlist": self.playlist, "entries": self.entries}

    def describe(self) -> str:
        playlist = repr(self.playlist) if self.playlist else "an unnamed playlist"
        library = f" of {self.library}" if self.library else ""
        return f"{playlist}{library}"


def journal_path(out_json: Path) -> Path:
    """Where the journal of a run writing `out_json` lives."""
    return out_json.with_name(out_json.name + ".partial.jsonl")


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically: temp file in the same directory, fsync, rename."""
    write_chunks_atomic(path, (data,))


def write_chunks_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    """Like write_bytes_atomic, for content produced piece by piece (never all in memory).

    A symlink is followed: its target is replaced and the link stays."""
    path = real_target(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise InputError(f"cannot write: {exc.strerror or exc}", path=str(path)) from exc
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _json_fragment(row: Row) -> str:
    # One item of the results list exactly as json.dumps(document, indent=2) would render
    # it; JSON strings hold no raw newlines, so re-indenting line by line is safe.
    return "    " + _indented(row).replace("\n", "\n    ")


def _indented(row: Row) -> str:
    """`json.dumps(row, indent=2, ensure_ascii=False)`, by orjson where it writes the same.

    The stdlib encoder was a tenth of the async client's CPU per track (a closure per call,
    and the garbage it leaves). orjson writes the same text for a flat row of strings,
    ints, bools, None and floats that Python prints without an exponent (scores, BPM);
    anything else (an exponent, a lone surrogate, a nested value) keeps the stdlib's text.
    """
    if all(_same_in_orjson(value) for value in row.values()):
        try:
            return orjson.dumps(row, option=orjson.OPT_INDENT_2).decode()
        except orjson.JSONEncodeError:
            pass
    return json.dumps(row, indent=2, ensure_ascii=False)


def _same_in_orjson(value: object) -> bool:
    if isinstance(value, float):
        return value == 0.0 or 1e-4 <= abs(value) < 1e15  # neither writes an exponent here
    return value is None or isinstance(value, str | int)  # bool is an int


def _json_pieces(fragments: Sequence[str], identity: RunIdentity) -> Iterator[str]:
    """The result JSON around the rows, piece by piece (a checkpoint streams them)."""
    head = {"format": FORMAT, **identity.header()}
    yield json.dumps(head, indent=2, ensure_ascii=False)[:-2] + ',\n  "results": '
    if not fragments:
        yield "[]\n}\n"
        return
    yield "[\n"
    for i, fragment in enumerate(fragments):
        yield ",\n" + fragment if i else fragment
    yield "\n  ]\n}\n"


def _csv_line(row: Row) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        "" if row.get(name) is None else row.get(name) for name in RESULT_FIELDS
    )
    return out.getvalue()


_CSV_HEADER = ",".join(RESULT_FIELDS) + "\n"


def render_json(rows: Sequence[Row], identity: RunIdentity = RunIdentity()) -> str:
    """The result JSON: the run's identity and its `results`, indent=2, UTF-8 as is."""
    return "".join(_json_pieces([_json_fragment(row) for row in rows], identity))


def render_csv(rows: Sequence[Row]) -> str:
    """The result CSV: a RESULT_FIELDS header, then one line per row; None is an empty cell."""
    return _CSV_HEADER + "".join(_csv_line(row) for row in rows)


def write_json_atomic(
    path: Path, rows: Sequence[Row], identity: RunIdentity = RunIdentity()
) -> None:
    """Write `rows` as the result JSON, atomically."""
    write_bytes_atomic(path, render_json(rows, identity).encode("utf-8"))


def write_csv_atomic(path: Path, rows: Sequence[Row]) -> None:
    """Write `rows` as the result CSV (columns RESULT_FIELDS), atomically."""
    write_bytes_atomic(path, render_csv(rows).encode("utf-8"))


def _trim_torn_tail(path: Path) -> None:
    """Cut an unterminated last line (a write killed halfway) so appends start clean."""
    try:
        stream = path.open("r+b")
    except FileNotFoundError:
        return
    with stream:
        size = pos = stream.seek(0, os.SEEK_END)
        keep = 0
        while pos > 0:
            step = min(4096, pos)
            pos -= step
            stream.seek(pos)
            newline = stream.read(step).rfind(b"\n")
            if newline >= 0:
                keep = pos + newline + 1
                break
        if keep != size:
            stream.truncate(keep)


class ResultSink:
    """Collects results from concurrent drivers; the files always hold them in playlist order.

    Every result goes to the journal at once (flushed per line); the JSON and CSV are
    rewritten atomically at most every `checkpoint_every` seconds and at `close()`. It keeps
    each result only in its rendered form, so memory grows with the results and no more.
    """

    def __init__(
        self,
        out_json: Path,
        *,
        csv: Path | None,
        total: int,
        checkpoint_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        resume: bool = False,
        identity: RunIdentity = RunIdentity(),
    ) -> None:
        self.out_json = out_json
        self.identity = identity
        self.csv = csv
        self.total = total
        self.failed: OutputError | None = None  # set once a write failed: the run stops
        self.checkpoint_every = checkpoint_every
        self._clock = clock
        self._lock = threading.Lock()
        self._json: dict[int, str] = {}
        self._csv: dict[int, str] = {}
        self._journal_path = journal_path(out_json)
        if resume:
            _trim_torn_tail(self._journal_path)
        # Resuming appends to the journal, unless it is another run's (--force): the caller
        # adds back every finished result at once, so starting that journal over loses none.
        # Appending, those results need not be journaled again (see `add`).
        found = _journal_identity(self._journal_path) if resume else None
        fresh = not resume or (found is not None and found != identity)
        self.appending = not fresh
        try:
            self._journal: BinaryIO | None = self._journal_path.open("wb" if fresh else "ab")
            if self._journal.tell() == 0:
                self._journal.write(orjson.dumps({"run": identity.header()}) + b"\n")
                self._journal.flush()
        except OSError as exc:
            if fresh:  # no request was made: leave no empty journal behind
                with contextlib.suppress(OSError):
                    self._journal_path.unlink()
            raise InputError(
                f"cannot write: {exc.strerror or exc}", path=str(self._journal_path)
            ) from exc
        self._last_checkpoint = clock()

    @property
    def count(self) -> int:
        """How many playlist entries have a result so far."""
        with self._lock:
            return len(self._json)

    def add(self, index: int, result: MatchResult, *, journal: bool = True) -> None:
        """Record the result of playlist entry `index` (0-based); a later add replaces it.

        `journal=False` is for a resumed result the journal or the result file already holds
        (while `appending`): the file keeps it until a checkpoint that includes it replaces
        it, so it is safe without a second journal line, and a resume on a nearly full disk
        does not need the room for all of them again.
        """
        if not 0 <= index < self.total:
            raise ValueError(f"entry index {index} outside the playlist (0..{self.total - 1})")
        row = result.to_dict()
        # Render outside the lock: workers only serialise on the cheap part.
        fragment = _json_fragment(row)
        csv_line = _csv_line(row) if self.csv is not None else ""
        line = orjson.dumps({"index": index, **row}) + b"\n"
        with self._lock:
            if self._journal is None:
                raise RuntimeError("ResultSink.add after close")
            if self.failed is not None:
                raise self.failed  # the disk failed under another worker: the run is stopping
            try:
                if journal:
                    self._journal.write(line)
                    self._journal.flush()
            except OSError as exc:
                self.failed = OutputError(_cannot_write(exc), path=str(self._journal_path))
                raise self.failed from exc
            self._json[index] = fragment
            if self.csv is not None:
                self._csv[index] = csv_line
            if self._clock() - self._last_checkpoint >= self.checkpoint_every:
                self._write_files()

    def close(self, complete: bool) -> None:
        """Write the final files; a complete run's journal is removed, an interrupted one's kept.

        If they cannot be written (OutputError), the journal is kept for --resume.
        """
        with self._lock:
            journal, self._journal = self._journal, None
            if journal is None:
                return
            # A run that ended with nothing done (stopped at its first request, say) leaves
            # the file at --out as it was, and no journal of its own.
            idle = not (complete or self._json or self.appending)
            try:
                if not idle:
                    self._write_files()
            finally:
                with contextlib.suppress(OSError):  # a failed flush was reported already
                    journal.close()
            if complete or idle:
                self._journal_path.unlink(missing_ok=True)

    def _write_files(self) -> None:
        # Streamed, fragment by fragment: a checkpoint of a 10,000-track run must not hold
        # a second copy of every result in memory.
        order = sorted(self._json)
        pieces = _json_pieces([self._json[i] for i in order], self.identity)
        try:
            write_chunks_atomic(self.out_json, (piece.encode("utf-8") for piece in pieces))
            if self.csv is not None:
                lines = (self._csv[i].encode("utf-8") for i in order)
                write_chunks_atomic(self.csv, itertools.chain((_CSV_HEADER.encode(),), lines))
        except InputError as exc:  # write_chunks_atomic's: a full or failing disk
            cause = exc.__cause__
            reason = _cannot_write(cause) if isinstance(cause, OSError) else str(exc)
            self.failed = OutputError(reason, path=exc.path or str(self.out_json))
            raise self.failed from cause
        self._last_checkpoint = self._clock()


def _cannot_write(exc: OSError) -> str:
    return f"cannot write: {exc.strerror or exc}"


def _result(row: object, where: str, display: str, line: int | None = None) -> MatchResult:
    if (
        not isinstance(row, dict)
        or not isinstance(row.get("rekordbox_id"), str)
        or row.get("status") not in _STATUSES
    ):
        raise InputError(f"{where} is not a match result", path=display, line=line)
    return MatchResult.from_dict(row)


def _from_json(
    out_json: Path,
    entry_ids: Sequence[str],
    identity: RunIdentity,
    force: bool,
    *,
    replacing: bool = False,
) -> dict[int, MatchResult]:
    display = str(out_json)
    try:
        document = json.loads(out_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON at column {exc.colno}: {exc.msg}", path=display, line=exc.lineno
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read previous results: {exc}", path=display) from None
    if isinstance(document, list):  # written before the files said which run they are
        found, rows = None, document
    elif isinstance(document, dict) and isinstance(document.get("results"), list):
        found, rows = _identity(document), document["results"]
    else:
        raise InputError("previous results are not a cratedigger result file", path=display)
    if replacing and found != identity:
        return {}  # another run's file that this run's journal was replacing
    _same_run(found, identity, display, force)
    # The file holds finished entries in playlist order, so the k-th row for a TrackID is
    # the k-th occurrence of that TrackID in the playlist.
    positions: dict[str, list[int]] = {}
    for index, track_id in enumerate(entry_ids):
        positions.setdefault(track_id, []).append(index)
    used: dict[str, int] = {}
    found_rows: dict[int, MatchResult] = {}
    for number, row in enumerate(rows, 1):
        result = _result(row, f"entry {number}", display)
        occurrence = used.get(result.rekordbox_id, 0)
        used[result.rekordbox_id] = occurrence + 1
        slots = positions.get(result.rekordbox_id, [])
        if occurrence < len(slots):
            found_rows[slots[occurrence]] = result
    return found_rows


def _identity(header: Mapping[str, object]) -> RunIdentity:
    def text(key: str) -> str:
        value = header.get(key)
        return value if isinstance(value, str) else ""

    return RunIdentity(text("library"), text("playlist"), text("entries"))


def _journal_identity(path: Path) -> RunIdentity | None:
    """The run a journal belongs to (its first line), or None if it has none or is absent."""
    try:
        with path.open("rb") as stream:
            first = stream.readline()
        header = json.loads(first)
    except (OSError, ValueError):
        return None
    run = header.get("run") if isinstance(header, dict) else None
    return _identity(run) if isinstance(run, dict) else None


def _same_run(found: RunIdentity | None, wanted: RunIdentity, display: str, force: bool) -> None:
    """Refuse to resume another run's results (a playlist, a library, or entries that differ)."""
    if force or found == wanted:
        return
    if found is None:
        what = "holds results that do not say which playlist they belong to (an older cratedigger)"
    elif found.describe() == wanted.describe():
        what = (
            f"holds results of playlist {found.describe()} from before its entries changed "
            "(tracks were added, removed or moved since)"
        )
    else:
        what = f"holds the results of playlist {found.describe()}, not of {wanted.describe()}"
    raise InputError(
        f"--resume: this file {what}; choose another --out, or add --force to keep only its "
        "rows that are in this playlist",
        path=display,
    )


def _from_journal(
    path: Path, entry_ids: Sequence[str], identity: RunIdentity, force: bool
) -> dict[int, MatchResult]:
    display = str(path)
    try:
        lines = path.read_bytes().split(b"\n")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InputError(f"cannot read the journal: {exc.strerror}", path=display) from None
    _same_run(_journal_identity(path), identity, display, force)
    found: dict[int, MatchResult] = {}
    for number, raw in enumerate(lines, 1):
        if not raw.strip() or (number == 1 and raw.startswith(b'{"run"')):
            continue
        try:
            row = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            if number == len(lines):  # unterminated last line: a write cut short by a kill
                continue
            raise InputError(f"corrupt journal line: {exc}", path=display, line=number) from None
        index = row.get("index") if isinstance(row, dict) else None
        result = _result(row, "journal line", display, number)
        # A journal from another version of the playlist may not line up; skip what doesn't.
        if not isinstance(index, int) or not 0 <= index < len(entry_ids):
            continue
        if entry_ids[index] == result.rekordbox_id:
            found[index] = result
    return found


def load_resume(
    out_json: Path,
    entry_ids: Sequence[str],
    identity: RunIdentity | None = None,
    *,
    force: bool = False,
) -> dict[int, MatchResult]:
    """Finished entries (matched or unmatched) of a previous run, by playlist index.

    Reads the result JSON and the journal; the journal wins for entries in both. Either
    belonging to another run than `identity` is refused with an InputError, unless `force`
    (or no `identity` is given: then nothing is checked).
    """
    unchecked = force or identity is None
    wanted = identity or RunIdentity()
    journal = journal_path(out_json)
    # This run's journal beside another run's results: the run that wrote the journal was
    # replacing that file when it stopped (a full disk, a crash); the file is not this run's.
    replacing = not unchecked and _journal_identity(journal) == wanted
    found = _from_json(out_json, entry_ids, wanted, unchecked, replacing=replacing)
    found.update(_from_journal(journal, entry_ids, wanted, unchecked))
    return {index: found[index] for index in sorted(found) if found[index].status in _FINISHED}


def read_results(path: Path) -> list[dict[str, object]]:
    """The rows of a result JSON file (for scripts and tests)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    rows: list[dict[str, object]] = document["results"] if isinstance(document, dict) else document
    return rows
