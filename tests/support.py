"""Helpers shared by the test suite: where the real Beatport recordings live, and a plain
HTTP server on loopback.

The recordings are committed under tests/fixtures/beatport/ (see its README), so a clone
needs nothing outside the repository to run the tests.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "tests" / "fixtures" / "beatport"


def recording(name: str) -> Path:
    """Path of one real Beatport recording in tests/fixtures/beatport/."""
    path = RECORDINGS / name
    if not path.is_file():
        raise FileNotFoundError(f"recording {name} not found under {RECORDINGS}")
    return path


@contextmanager
def serving(handler: Callable[..., Any]) -> Iterator[str]:
    """A ThreadingHTTPServer with `handler` on a free loopback port: its base URL, no slash."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
