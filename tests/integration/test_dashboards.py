"""The committed dashboards, opened in a real browser: no broken image or link, no script error.

Headless Chromium (Debian's `chromium`, driven by playwright; `.ci/run` installs it) loads
results/index.html and every scenario page from a local HTTP server over the results folder,
follows every relative link and image on them, and saves a screenshot of each page under
results/screenshots/ (not committed). Without a browser the test is skipped, unless
CRATEDIGGER_REQUIRE_BROWSER is set (CI sets it): then it fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.support import serving

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The results folder over HTTP on a free loopback port, the asv site published first."""
    if not (RESULTS / "html" / "index.html").exists() and (RESULTS / "asv").is_dir():
        subprocess.run(
            [sys.executable, "-m", "asv", "publish"], cwd=REPO, capture_output=True, check=False
        )
    with serving(functools.partial(_Quiet, directory=str(RESULTS))) as base_url:
        yield f"{base_url}/"


def _pages() -> list[str]:
    # Scenario pages: folders with a summary.json (the asv site in html/ is asv's own page).
    scenarios = sorted(
        p.parent.name for p in RESULTS.glob("*/index.html") if (p.parent / "summary.json").exists()
    )
    return ["index.html", *(f"{name}/index.html" for name in scenarios)]


@pytest.mark.parametrize("page", _pages())
def test_dashboard_page_has_no_broken_image_link_or_script_error(
    page: str, site: str, tmp_path: Path
) -> None:
    browser_path = _chromium()
    if browser_path is None:
        if os.environ.get("CRATEDIGGER_REQUIRE_BROWSER"):
            pytest.fail("no Chromium on this machine (apt-get install chromium)")
        pytest.skip("no Chromium on this machine")
    playwright = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path, args=BROWSER_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.on("pageerror", lambda error: errors.append(f"script error: {error}"))
            tab.on(
                "console",
                lambda message: (
                    errors.append(f"console: {message.text}") if message.type == "error" else None
                ),
            )
            answer = tab.goto(urljoin(site, page), wait_until="load")
            assert answer is not None and answer.status == 200, page
            broken = tab.evaluate(
                "Array.from(document.images)"
                ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
            )
            links = tab.evaluate(
                "Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
            )
            shots = RESULTS / "screenshots"
            shots.mkdir(exist_ok=True)
            tab.screenshot(path=str(shots / (page.replace("/", "-").replace(".html", ".png"))))
        finally:
            browser.close()
    assert broken == [], f"{page}: broken images {broken}"
    assert errors == [], f"{page}: {errors}"
    local = [link for link in links if link.startswith(site)]
    assert local, f"{page} links to nothing of its own"
    for link in local:
        target = link.split("#", 1)[0]
        status = requests.get(target, timeout=10).status_code
        assert status == 200, f"{page}: broken link {urlsplit(target).path} ({status})"
    assert not [link for link in links if link.startswith("file:")], page
