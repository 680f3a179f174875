"""The throughput benchmark's workload: the request mixes, their paths and raw requests."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote_plus

from mockserver.catalog import Catalog
from mockserver.search import tokenize

JSON: Final = "application/json"
HTML: Final = "text/html"
REPEATED_QUERIES: Final = 64  # the "repeated" mixes cycle over this many queries
HOT_TRACKS: Final = 1000  # the track mixes cycle over this many track ids


@dataclass(frozen=True)
class Mix:
    """One kind of request: the route both servers serve it on and how its paths are made."""

    name: str
    route: str  # an aiohttp route pattern, registered on the bare app as on the mock
    content_type: str
    source: str  # "distinct", "repeated" (queries) or "tracks"
    path: str  # a format string over {q} (quoted query) or {id} and {slug}


MIXES: Final = (
    Mix("api_search_distinct", "/v4/catalog/search/", JSON, "distinct",
        "/v4/catalog/search/?q={q}&type=tracks"),
    Mix("api_search_repeated", "/v4/catalog/search/", JSON, "repeated",
        "/v4/catalog/search/?q={q}&type=tracks"),
    Mix("api_track", r"/v4/catalog/tracks/{track_id:\d+}/", JSON, "tracks",
        "/v4/catalog/tracks/{id}/"),
    Mix("web_search_distinct", "/search/tracks", HTML, "distinct", "/search/tracks?q={q}"),
    Mix("web_search_repeated", "/search/tracks", HTML, "repeated", "/search/tracks?q={q}"),
    Mix("web_track", r"/track/{slug}/{track_id:\d+}", HTML, "tracks", "/track/{slug}/{id}"),
)  # fmt: skip
MIX_NAMES: Final = tuple(m.name for m in MIXES)
LATENCY_MIX: Final = "api_track"


def distinct_queries(catalog: Catalog, seed: int = 7) -> list[str]:
    """Queries a matcher would send, no two alike once normalised, in a seeded random order."""
    seen: set[str] = set()
    queries: list[str] = []
    for track in catalog.tracks:
        artists = " ".join(a.name for a in track.artists)
        for query in (
            f"{artists} {track.name}",
            f"{artists} {track.name} {track.mix_name}",
            f"{track.name} {track.mix_name}",
        ):
            key = " ".join(tokenize(query))
            if key not in seen:
                seen.add(key)
                queries.append(query)
    random.Random(seed).shuffle(queries)
    return queries


def mix_paths(catalog: Catalog) -> dict[str, list[str]]:
    """Each mix's request paths, cycled through in order.

    The API and the website mixes draw from disjoint halves of the queries (they share one
    search cache); the repeated mixes use the end of their half, which a distinct mix only
    reaches after tens of thousands of requests.
    """
    queries = distinct_queries(catalog)
    halves = {"api": queries[0::2], "web": queries[1::2]}
    hot = random.Random(11).sample(list(catalog.tracks), min(HOT_TRACKS, catalog.size))
    paths: dict[str, list[str]] = {}
    for mix in MIXES:
        if mix.source == "tracks":
            paths[mix.name] = [mix.path.format(id=t.id, slug=t.slug) for t in hot]
            continue
        half = halves[mix.name.partition("_")[0]]
        chosen = half[-REPEATED_QUERIES:] if mix.source == "repeated" else half
        paths[mix.name] = [mix.path.format(q=quote_plus(q)) for q in chosen]
    return paths


def raw_requests(paths: Sequence[str], host: str, token: str) -> list[bytes]:
    """HTTP/1.1 keep-alive GETs, the same bytes for both servers but the Host port."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return [
        f"GET {p} HTTP/1.1\r\nHost: {host}\r\n{auth}Accept: */*\r\n\r\n".encode() for p in paths
    ]
