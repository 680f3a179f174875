"""On-disk SQLite cache of response bodies, keyed by method and normalised URL.

Safe for concurrent use: one connection per thread, WAL journal so readers never wait for
the writer, and a busy timeout for writers from other threads or processes. Only bodies
that parsed are stored (the exchange decides), so a truncated answer is never replayed.

The cache is an optimisation, never a reason to lose a result. A damaged file (a disk
fault, another program's crash: SQLite says "malformed" or "not a database") is found at
open (`PRAGMA quick_check`) or at any use, moved aside under a timestamped name with one
warning, and replaced by a fresh cache; if even that fails, or the disk is full or failing,
the run goes on without a cache. Every failure reads as a miss or a skipped write.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TTL = 7 * 24 * 3600.0
_COMPRESS_ABOVE = 16 * 1024  # website pages are 100-250 KB and compress ~6x
_DAMAGED = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    compressed INTEGER NOT NULL,
    stored REAL NOT NULL
)
"""


def _stderr(message: str) -> None:
    print(f"cratedigger: warning: {message}", file=sys.stderr, flush=True)


def _damaged(err: sqlite3.Error) -> bool:
    name = getattr(err, "sqlite_errorname", None)
    return name in _DAMAGED if name else type(err) is sqlite3.DatabaseError


class ResponseCache:
    """`get`/`put`/`delete` of raw bodies with a time to live; counts hits and misses."""

    def __init__(
        self,
        directory: Path,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
        warn: Callable[[str], None] = _stderr,
    ) -> None:
        self.path = directory / "responses.sqlite3"
        self.ttl = ttl
        self._clock = clock
        self._warn = warn
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.RLock()  # held for a whole repair: nobody connects meanwhile
        self._generation = 0  # bumped when a damaged file is replaced: reconnect
        self.disabled = False
        self.hits = 0
        self.misses = 0
        try:
            directory.mkdir(parents=True, exist_ok=True)
            _, conn = self._connection()
            if conn.execute("PRAGMA quick_check(1)").fetchone() != ("ok",):
                raise sqlite3.DatabaseError("quick_check found the file damaged")
        except (OSError, sqlite3.Error) as err:
            self._failed(err, self._generation)

    def _connection(self) -> tuple[int, sqlite3.Connection]:
        """This thread's connection and the generation of the file it is open on.

        A connection is closed only by the thread that uses it (or by `close`, once no
        thread does): closing one while another thread runs a query on it crashes the
        interpreter (a segfault in the sqlite3 module, seen with a disk filling up).
        """
        held: tuple[int, sqlite3.Connection] | None = getattr(self._local, "conn", None)
        if held is not None:
            if held[0] == self._generation:
                return held
            self._local.conn = None  # on a file dealt with since: this thread closes it
            with contextlib.suppress(sqlite3.Error):
                held[1].close()
        with self._lock:
            if self.disabled:
                raise sqlite3.OperationalError("the response cache is no longer used")
            generation = self._generation
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(_SCHEMA)
            except sqlite3.Error:
                conn.close()
                raise
            self._connections.append(conn)
        self._local.conn = (generation, conn)
        return generation, conn

    def _use(self, work: Callable[[sqlite3.Connection], T], fallback: T) -> T:
        """Run `work` on this thread's connection; any failure reads as `fallback`."""
        if self.disabled:
            return fallback
        generation = self._generation
        try:
            generation, conn = self._connection()
            return work(conn)
        except (OSError, sqlite3.Error) as err:
            self._failed(err, generation)
            return fallback

    def _failed(self, err: OSError | sqlite3.Error, generation: int) -> None:
        if isinstance(err, sqlite3.OperationalError) and "locked" in str(err):
            return  # another process holds the file past the busy timeout: a miss, no more
        with self._lock:
            if self.disabled or generation != self._generation:
                return  # a connection to a file already dealt with: just a miss
            # Other threads see the new generation at their next use and close their own
            # connection then; `close` closes any left at the end of the run.
            self._generation += 1
            if isinstance(err, sqlite3.Error) and _damaged(err):
                self._replace_damaged(err)
            else:
                self.disabled = True
                self._warn(
                    f"the response cache {self.path} cannot be used ({err}); going on without"
                )

    def _replace_damaged(self, err: sqlite3.Error) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        try:
            self.path.replace(aside)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    self.path.with_name(self.path.name + suffix).unlink()
            self._connection()
        except (OSError, sqlite3.Error) as again:
            self.disabled = True
            self._warn(
                f"the response cache {self.path} is damaged ({err}) and could not be replaced "
                f"({again}); going on without a cache"
            )
            return
        self._warn(
            f"the response cache {self.path} was damaged ({err}); moved it to {aside.name} "
            "and started a fresh one"
        )

    def get(self, key: str) -> bytes | None:
        def read(conn: sqlite3.Connection) -> tuple[bytes, int, float] | None:
            row: tuple[bytes, int, float] | None = conn.execute(
                "SELECT body, compressed, stored FROM responses WHERE key = ?", (key,)
            ).fetchone()
            return row

        row = self._use(read, None)
        body: bytes | None = None
        if row is not None and self._clock() - row[2] <= self.ttl:
            try:
                body = zlib.decompress(row[0]) if row[1] else bytes(row[0])
            except zlib.error:
                body = None  # a damaged entry: refetched and overwritten
        with self._lock:
            if body is not None:
                self.hits += 1
            else:
                self.misses += 1
        return body

    def put(self, key: str, body: bytes) -> None:
        compressed = len(body) > _COMPRESS_ABOVE
        stored = zlib.compress(body, 1) if compressed else body

        def write(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(
                    "INSERT OR REPLACE INTO responses (key, body, compressed, stored) "
                    "VALUES (?,?,?,?)",
                    (key, stored, int(compressed), self._clock()),
                )

        self._use(write, None)

    def delete(self, key: str) -> None:
        def remove(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute("DELETE FROM responses WHERE key = ?", (key,))

        self._use(remove, None)

    def purge_expired(self) -> int:
        """Drop entries older than the TTL; returns how many went."""

        def purge(conn: sqlite3.Connection) -> int:
            with conn:
                cur = conn.execute(
                    "DELETE FROM responses WHERE stored < ?", (self._clock() - self.ttl,)
                )
            return cur.rowcount

        return self._use(purge, 0)

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
            self._generation += 1
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()
