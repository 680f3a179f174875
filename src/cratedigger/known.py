"""Beatport track ids a library already carries, read from a track's tags. Pure.

A track tagged before needs no search: its id is fetched directly and checked against the
tags (`scoring.verify`). The rules are tried in order, the first id found is used:

* cratedigger's own write-back puts `beatport:<id>` (and `ISRC:<isrc>`) in Comments;
* DJs and other taggers paste the track's URL into Comments, in the forms the site has had:
  `https://www.beatport.com/track/<slug>/<id>`, `pro.beatport.com`, `http:`, no scheme;
* Beatport names its downloads `<id>_<Title>_<Mix>.<ext>`, and Rekordbox shows an untagged
  file's name as its title (Yate, for one, reads the id from the file name the same way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from cratedigger.models import LocalTrack

__all__ = ["KNOWN_ID_RULES", "KnownId", "KnownIdRule", "known_id"]


@dataclass(frozen=True, slots=True)
class KnownId:
    beatport_id: int
    slug: str = ""  # from a URL; the site serves the track under any slug
    rule: str = ""  # which rule found it


@dataclass(frozen=True, slots=True)
class KnownIdRule:
    name: str
    field: str  # the LocalTrack field it reads: comments, name or location
    pattern: re.Pattern[str]  # groups "id" and, optionally, "slug"


KNOWN_ID_RULES: tuple[KnownIdRule, ...] = (
    KnownIdRule("cratedigger write-back", "comments", re.compile(r"\bbeatport:(?P<id>\d{1,10})\b")),
    KnownIdRule(
        "track URL",
        "comments",
        re.compile(
            r"(?<![\w.])(?:https?://)?(?:www\.|pro\.)?beatport\.com/track/"
            r"(?P<slug>[a-z0-9-]*)/(?P<id>\d{1,10})(?!\d)",
            re.IGNORECASE,
        ),
    ),
    KnownIdRule("Beatport file name", "name", re.compile(r"^(?P<id>\d{5,9})_(?=\S)")),
    KnownIdRule("Beatport file name", "location", re.compile(r"/(?P<id>\d{5,9})_[^/]*$")),
)


def known_id(track: LocalTrack) -> KnownId | None:
    """The Beatport id the track's tags carry, if any."""
    for rule in KNOWN_ID_RULES:
        text = getattr(track, rule.field)
        if not text:
            continue
        if rule.field == "location":
            text = unquote(text)
        found = rule.pattern.search(text)
        if found is not None:
            slug = found.groupdict().get("slug") or ""
            return KnownId(int(found["id"]), slug.lower(), rule.name)
    return None
