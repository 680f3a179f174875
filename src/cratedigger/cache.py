"""On-disk SQLite cache of response bodies, keyed by method and normalised URL.

Safe for concurrent use: one connection per thread, WAL journal so readers never wait for
the writer, and a busy timeout for writers from other threads or processes. Only bodies
that parsed are stored (the exchange decides), so a truncated answer is never replayed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from cratedigger.errors import InputError

DEFAULT_TTL = 7 * 24 * 3600.0
_COMPRESS_ABOVE = 16 * 1024  # website pages are 100-250 KB and compress ~6x
_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    compressed INTEGER NOT NULL,
    stored REAL NOT NULL
)
"""


class ResponseCache:
    """`get`/`put`/`delete` of raw bodies with a time to live; counts hits and misses."""

    def __init__(
        self,
        directory: Path,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = directory / "responses.sqlite3"
        self.ttl = ttl
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._connection().execute(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise InputError(f"cannot open the cache: {err}", path=str(self.path)) from err

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def get(self, key: str) -> bytes | None:
        row = (
            self._connection()
            .execute("SELECT body, compressed, stored FROM responses WHERE key = ?", (key,))
            .fetchone()
        )
        fresh = row is not None and self._clock() - row[2] <= self.ttl
        with self._lock:
            if fresh:
                self.hits += 1
            else:
                self.misses += 1
        if not fresh:
            return None
        body = bytes(row[0])
        return zlib.decompress(body) if row[1] else body

    def put(self, key: str, body: bytes) -> None:
        compressed = len(body) > _COMPRESS_ABOVE
        stored = zlib.compress(body, 1) if compressed else body
        conn = self._connection()
        with conn:
            conn.execute(
                "INSERT OR REPLACE INTO responses (key, body, compressed, stored) VALUES (?,?,?,?)",
                (key, stored, int(compressed), self._clock()),
            )

    def delete(self, key: str) -> None:
        conn = self._connection()
        with conn:
            conn.execute("DELETE FROM responses WHERE key = ?", (key,))

    def purge_expired(self) -> int:
        """Drop entries older than the TTL; returns how many went."""
        conn = self._connection()
        with conn:
            cur = conn.execute(
                "DELETE FROM responses WHERE stored < ?", (self._clock() - self.ttl,)
            )
        return cur.rowcount

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
