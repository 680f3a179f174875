"""The interface every Beatport source (API v4, website) implements. Pure: no I/O."""

from __future__ import annotations

from typing import Protocol

from cratedigger.models import Candidate, Request, Response


class Source(Protocol):
    """Builds the requests of one Beatport surface and reads its answers.

    `parse` is only called with a 2xx response; it raises `cratedigger.errors.ParseError`
    on a body it cannot read, which the drivers treat like a transient failure (a truncated
    or garbled body is retried and never cached).
    """

    name: str

    def search_request(self, query: str) -> Request:
        """The request that searches tracks for `query`."""
        ...

    def detail_request(self, candidate: Candidate) -> Request:
        """The request that fetches the full description of one candidate."""
        ...

    def track_request(self, beatport_id: int, slug: str = "") -> Request:
        """The request that fetches one track by its id (a detail request, parsed alike)."""
        ...

    def parse(self, request: Request, response: Response) -> list[Candidate]:
        """Candidates in the answer to `request` (a search: many; a detail: one)."""
        ...
