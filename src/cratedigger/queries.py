"""The search queries for a local track: a fixed, ordered table of templates, most specific first.

A store search ORs the words and ranks by relevance, so the first query (every main artist,
the title and a non-original mix) puts the right track on the first page for clean tags.
The later ones rescue noisy tags: extra or misspelt artists, a wrong mix, a mangled title.
"""

from __future__ import annotations

from dataclasses import dataclass

from cratedigger.models import LocalTrack
from cratedigger.normalize import ORIGINAL_MIX, Normalized, normalize_local


@dataclass(frozen=True, slots=True)
class QueryTemplate:
    """One query variant: `text` is a str.format template over `query_fields`' keys."""

    label: str
    text: str


QUERY_TEMPLATES: tuple[QueryTemplate, ...] = (
    # Everything the tags say: the right track matches the most words.
    QueryTemplate("full", "{artists} {name} {mix}"),
    # A wrong or surplus credit or mix can outrank the title's words: keep only the lead.
    QueryTemplate("lead", "{first_artist} {name}"),
    # Misspelt artists: the title and what makes this version (remixer, else mix name).
    QueryTemplate("version", "{name} {version}"),
    # A mangled title: list the credited people's tracks instead.
    QueryTemplate("credits", "{artists} {featured} {remixers}"),
    QueryTemplate("title", "{name}"),
)


def query_fields(normalized: Normalized) -> dict[str, str]:
    """The values the templates can use, folded and space-separated."""
    mix = "" if normalized.mix == ORIGINAL_MIX else normalized.mix
    remixers = " ".join(normalized.remixers)
    return {
        "artists": " ".join(normalized.artists),
        "first_artist": normalized.lead,
        "featured": " ".join(normalized.featured),
        "name": normalized.name,
        "mix": mix,
        "remixers": remixers,
        "version": remixers or mix,
    }


def render(templates: tuple[QueryTemplate, ...], normalized: Normalized) -> tuple[str, ...]:
    """Fill the templates in order, dropping empty and repeated queries."""
    fields = query_fields(normalized)
    queries: dict[str, None] = {}
    for template in templates:
        text = " ".join(template.text.format(**fields).split())
        if text:
            queries.setdefault(text)
    return tuple(queries)


def build_queries(track: LocalTrack) -> tuple[str, ...]:
    """The search queries for `track`, most specific first, without duplicates."""
    return render(QUERY_TEMPLATES, normalize_local(track))
