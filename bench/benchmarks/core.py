"""The pure core, no I/O: scoring candidates and parsing each source's answers.

The inputs are real Beatport answers from the shared recordings, read once in
`setup_cache`. There is no `setup` here on purpose: asv re-runs setup before every timed
call, which would leave microsecond timings at one call per sample.
"""

from __future__ import annotations

from cratedigger import scoring
from cratedigger.protocol.nextdata import extract_next_data

from . import support
from .support import API, API_SEARCH, API_TRACK, WEB, WEB_PAGE, WEB_SEARCH, CoreFixtures


def setup_cache() -> CoreFixtures:
    """The recordings as responses, and a local track with its search's candidates."""
    return support.core_fixtures()


class Scoring:
    """Scoring: one local track against Beatport candidates."""

    def time_prepare(self, f: CoreFixtures) -> None:
        """Normalise a local track once, before its candidates are scored."""
        scoring.prepare(f.local)

    def time_score(self, f: CoreFixtures) -> None:
        """Score one candidate."""
        scoring.score(f.prepared, f.candidate)

    def time_rank(self, f: CoreFixtures) -> None:
        """Score and order a whole search answer's candidates."""
        scoring.rank(f.prepared, f.candidates)


class Parsing:
    """Parsing each source's answers into candidates."""

    def time_api_search(self, f: CoreFixtures) -> None:
        """API v4 search answer (12 KB JSON)."""
        API.parse(API_SEARCH, f.api_search)

    def time_api_track(self, f: CoreFixtures) -> None:
        """API v4 track detail (4 KB JSON)."""
        API.parse(API_TRACK, f.api_track)

    def time_web_extract_next_data(self, f: CoreFixtures) -> None:
        """Find and decode `__NEXT_DATA__` in a 225 KB search page."""
        extract_next_data(f.web_search.body)

    def time_web_search_page(self, f: CoreFixtures) -> None:
        """Website search page (225 KB HTML) to candidates."""
        WEB.parse(WEB_SEARCH, f.web_search)

    def time_web_track_page(self, f: CoreFixtures) -> None:
        """Website track page (49 KB of `__NEXT_DATA__`) to its candidate."""
        WEB.parse(WEB_PAGE, f.web_page)
