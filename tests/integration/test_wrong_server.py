"""A --base-url that is not Beatport's (a plain web server answering 404 to everything): the
run stops at its first request with one line, exit 1, and leaves the previous results as
they were, instead of an error row per track over them."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from cratedigger.output import journal_path
from mockserver.catalog import Catalog
from tests.integration.playlists import Demo, make_demo
from tests.integration.test_cli_match import cratedigger
from tests.support import serving


class NotBeatport(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = b"<html><body>404 Not Found</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def wrong_server() -> Iterator[str]:
    with serving(NotBeatport) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def demo(mock_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return make_demo(mock_catalog, tmp_path_factory.mktemp("wrong"), tracks=20, seed=41)


@pytest.mark.parametrize("mode", ["sync", "threads", "async"])
def test_a_server_that_is_not_beatport_stops_the_run_and_keeps_the_old_results(
    mode: str, demo: Demo, mock_server: str, wrong_server: str, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    args = ("match", demo.xml, "--playlist", demo.playlist, "--no-cache", "--no-progress")
    good = cratedigger(*args, "--base-url", mock_server, "--out", out)
    assert good.returncode == 0, good.stderr
    before = out.read_bytes()

    wrong = cratedigger(*args, "--base-url", wrong_server, "--mode", mode, "--out", out)
    assert wrong.returncode == 1, wrong.stderr
    last = wrong.stderr.strip().splitlines()[-1]
    assert last == (
        f"cratedigger: error: {wrong_server}: cannot get an API token: HTTP 404 "
        "(sign in with `cratedigger login`, or give --token); no track matched"
    ), last
    assert "Traceback" not in wrong.stderr
    assert out.read_bytes() == before
    assert not journal_path(out).exists()
