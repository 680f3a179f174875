"""What the benchmark suites share: demo playlists, the mock in its own process, one run.

asv imports this package as `benchmarks` (pytest-benchmark as `bench.benchmarks`), so the
suites import it relatively. No name here looks like an asv benchmark (`time_`, `Track...`):
asv would collect it from every module that imports it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from cratedigger import scoring
from cratedigger.export import RunMetrics, build_metrics
from cratedigger.metrics import MetricsCollector
from cratedigger.models import Candidate, LocalTrack, Request, Response
from cratedigger.options import MatchOptions
from cratedigger.pacing import RateLimit
from cratedigger.protocol import api as _api
from cratedigger.protocol import web as _web
from cratedigger.rekordbox import read_library
from cratedigger.run import run_playlist
from cratedigger.settings import MODES, Mode
from mockserver.catalog import build_catalog
from mockserver.playlist import generate_playlist, write_rekordbox_xml

if TYPE_CHECKING:
    from mockserver.process import MockProcess

# A small catalog: the mock starts in about a second and the playlists still hold the
# usual noise (typos, missing tracks), which is what the matcher's cost depends on.
CATALOG_SEED: Final = 1
CATALOG_SIZE: Final = 2000
PLAYLIST_SEED: Final = 2026
CONCURRENCY: Final = 16
ALL_MODES: Final[tuple[Mode, ...]] = MODES
REPO: Final = Path(__file__).resolve().parents[2]

# The sources' classes are not imported by name: asv collects every class in a benchmark
# module, and their `track_request` method looks like one of its `track_` benchmarks.
API: Final = _api.ApiSource()
WEB: Final = _web.WebSource()
API_SEARCH: Final = API.search_request("strobe")
API_TRACK: Final = Request("GET", "/v4/catalog/tracks/19431036/", kind="track", auth=True)
WEB_SEARCH: Final = WEB.search_request("noisia")
WEB_PAGE: Final = Request("GET", "/track/purpose/6389004", kind="page")


F = TypeVar("F", bound=Callable[..., Any])


def asv_attrs(**attrs: object) -> Callable[[F], F]:
    """Set asv's attributes (unit, timeout...) on a benchmark function or `setup_cache`."""

    def mark(func: F) -> F:
        vars(func).update(attrs)
        return func

    return mark


def _mock_process() -> MockProcess:
    """The mock in a process of its own.

    asv also runs these benchmarks (as they are at HEAD) against older commits
    (`make asv-history`); before mockserver.process existed, the harness started the mock.
    """
    try:
        from mockserver.process import MockProcess
    except ImportError:  # an older commit
        from cratedigger.harness.mockproc import MockProcess as Older  # type: ignore[import-not-found]

        older: MockProcess = Older(seed=CATALOG_SEED, catalog_size=CATALOG_SIZE)
        return older
    return MockProcess.mock(seed=CATALOG_SEED, catalog_size=CATALOG_SIZE)


class BenchmarkRunError(RuntimeError):
    """A measured run that did not do its job: its timing would be meaningless."""


def latency_spec(latency_ms: int) -> str:
    """The mock's latency for a benchmark parameter: fixed, so samples vary little."""
    return f"fixed:{latency_ms}ms" if latency_ms > 0 else "none"


def client_rate_limit(mode: Mode) -> RateLimit:
    """The CLI's default pacing per mode: async adapts to the server, the others do not."""
    return RateLimit("auto") if mode == "async" else RateLimit("off")


def playlists(sizes: Iterable[int]) -> dict[int, list[LocalTrack]]:
    """Demo playlists of each size, read back through the Rekordbox reader as the CLI does."""
    catalog = build_catalog(CATALOG_SEED, CATALOG_SIZE)
    found: dict[int, list[LocalTrack]] = {}
    with tempfile.TemporaryDirectory(prefix="cratedigger-bench-") as folder:
        for size in sizes:
            demo = generate_playlist(catalog, size, PLAYLIST_SEED)
            xml = Path(folder) / f"demo-{size}.xml"
            write_rekordbox_xml(demo, xml)
            found[size] = read_library(xml).playlist(demo.path).entries
    return found


LIBRARY_TRACKS: Final = 10_000


def write_library(folder: Path, tracks: int = LIBRARY_TRACKS) -> tuple[Path, str]:
    """A demo Rekordbox collection of `tracks` entries in `folder`; its file and playlist path.

    Its catalog is just big enough for the playlist, so setting up costs seconds, not more.
    """
    catalog = build_catalog(CATALOG_SEED, tracks + tracks // 2)
    demo = generate_playlist(catalog, tracks, PLAYLIST_SEED)
    xml = folder / f"library-{tracks}.xml"
    write_rekordbox_xml(demo, xml)
    return xml, demo.path


def run_once(entries: list[LocalTrack], mode: Mode, base_url: str, out: Path) -> dict[str, Any]:
    """Match `entries` against `base_url` as `cratedigger match` would; the metrics document.

    Raises BenchmarkRunError when tracks ended in error or were left undone.
    """
    options = MatchOptions(
        source="api",
        base_url=base_url,
        concurrency=CONCURRENCY,
        rate_limit=client_rate_limit(mode),
        seed=0,
    )
    collector = MetricsCollector()
    summary = run_playlist(entries, options, mode, out=out, progress=False, collector=collector)
    if summary.errors or summary.done != len(entries):
        raise BenchmarkRunError(f"{mode}: {summary.line()}")
    return build_metrics(RunMetrics(summary, collector, options))


class MockServer:
    """The mock in a subprocess (so the client's time and memory are measured alone).

    For asv's setup/teardown pairs: `start` in setup, `stop` in teardown; also a scratch
    folder for the result files the runs write.
    """

    def __init__(self) -> None:
        self._stack = ExitStack()
        self.process: MockProcess | None = None
        self.scratch = Path()

    def start(self, *, latency_ms: int = 0, rate_limit: str = "off") -> str:
        """Start the mock with this behaviour; its base URL."""
        try:
            self.process = self._stack.enter_context(_mock_process())
            self.scratch = Path(
                self._stack.enter_context(tempfile.TemporaryDirectory(prefix="cratedigger-bench-"))
            )
            self.configure(latency_ms=latency_ms, rate_limit=rate_limit)
        except BaseException:
            # asv skips teardown when setup fails: do not leave the server running.
            self.stop()
            raise
        return self.process.base_url

    def configure(self, *, latency_ms: int = 0, rate_limit: str = "off") -> None:
        """Change the live server's behaviour and clear its statistics."""
        if self.process is None:
            raise BenchmarkRunError("the mock server is not running")
        self.process.configure(latency=latency_spec(latency_ms), rate_limit=rate_limit, faults="")

    @property
    def base_url(self) -> str:
        return self.process.base_url if self.process is not None else ""

    def stop(self) -> None:
        """Stop the mock and remove the scratch folder (safe to call twice)."""
        self._stack.close()
        self.process = None


@dataclass(frozen=True)
class CoreFixtures:
    """Inputs of the pure-core timings: real Beatport answers and one local track."""

    local: LocalTrack
    prepared: scoring.Prepared
    candidates: tuple[Candidate, ...]
    api_search: Response
    api_track: Response
    web_search: Response  # a 225 KB search page
    web_page: Response

    @property
    def candidate(self) -> Candidate:
        """The candidate the local track should match."""
        return self.candidates[0]


RECORDINGS = REPO / "tests" / "fixtures" / "beatport"


def recording_bytes(name: str) -> bytes:
    """The bytes of one real Beatport recording (tests/fixtures/beatport/)."""
    return (RECORDINGS / name).read_bytes()


def html_page(next_data: bytes) -> bytes:
    """A track page as the website serves it: markup and scripts around `__NEXT_DATA__`."""
    head = b'<!DOCTYPE html><html><head><script src="/_next/static/main.js"></script></head>'
    body = b'<body><div id="__next"><h1>Purpose</h1></div><script id="__NEXT_DATA__" '
    script = b'type="application/json">' + next_data + b"</script>"
    return head + body + script + b"<script>window.x = 1</script></body></html>"


def core_fixtures() -> CoreFixtures:
    """Responses from the recordings; the local track is ANOTR's Strobe, the search's top hit."""
    api_search = Response(200, recording_bytes("api-v4-search-tracks-strobe.json"))
    local = LocalTrack(
        track_id="1", name="Strobe (Original Mix)", artist="ANOTR", mix="Original Mix", bpm=124.0
    )
    prepared = scoring.prepare(local)
    ranked = scoring.rank(prepared, API.parse(API_SEARCH, api_search))
    return CoreFixtures(
        local=local,
        prepared=prepared,
        candidates=tuple(candidate for candidate, _ in ranked),
        api_search=api_search,
        api_track=Response(200, recording_bytes("api-v4-track-19431036.json")),
        web_search=Response(200, recording_bytes("web-search-noisia.html")),
        web_page=Response(
            200, html_page(recording_bytes("web-track-page-next-data-6389004.json").strip())
        ),
    )


def share(part: float, whole: float) -> float:
    """part / whole in percent (0 when there is no whole)."""
    return 100.0 * part / whole if whole else 0.0


def wall_time(document: Mapping[str, Any]) -> float:
    """A metrics document's wall time, in seconds."""
    return float(document["session_info"]["wall_time"])
