"""Load test of the mock Beatport server: API search, API track and website page mixes.

    make load                      # a bounded headless run against a mock it starts itself
    locust -f bench/locustfile.py --host http://127.0.0.1:8080 --headless -u 50 -r 10 -t 30s \
        --csv results/load/mock --html results/load/report.html

Three user classes, one per mix (pick some by naming them after the options, e.g.
`... -t 30s SearchUser`):

* SearchUser: API v4 track searches, one or two catalog words per query;
* TrackUser: API v4 track details, of ids its own first search found;
* PageUser: website search pages (100-250 KB) and the track pages their results link to.

Request names (the rows of the CSV report): "token", "api search", "api track",
"web search", "web track page". The queries use the words the mock's catalog draws titles
from, so searches find tracks as a DJ's would.
"""

from __future__ import annotations

import random
from typing import Final

from locust import FastHttpUser, between, task
from locust.contrib.fasthttp import ResponseContextManager

from cratedigger.errors import CratediggerError
from cratedigger.models import Candidate, Request, Response
from cratedigger.protocol.api import ApiSource
from cratedigger.protocol.web import WebSource
from mockserver.vocab import TITLE_WORDS

TOKEN_PATH: Final = "/v4/auth/o/token/"
API: Final = ApiSource(per_page=10)
WEB: Final = WebSource()
DEFAULT_HOST: Final = "http://127.0.0.1:8080"  # `python -m mockserver serve`; --host wins
MAX_KNOWN: Final = 200  # candidates a user remembers for its detail requests


def query(rng: random.Random) -> str:
    """One or two title words, as a DJ types them."""
    return " ".join(rng.sample(TITLE_WORDS, rng.choice((1, 2))))


class BeatportUser(FastHttpUser):
    """What every mix shares: a short think time and the candidates seen so far."""

    abstract = True
    host = DEFAULT_HOST
    wait_time = between(0.0, 0.1)
    # Each user gets its own generator: workers must not draw the same query sequence.
    rng: random.Random
    known: list[Candidate]

    def on_start(self) -> None:
        self.rng = random.Random()
        self.known = []

    def remember(self, candidates: list[Candidate]) -> None:
        """Keep the newest candidates, for the detail requests of the mix."""
        self.known = (candidates + self.known)[:MAX_KNOWN]

    def check(
        self, source: ApiSource | WebSource, request: Request, answer: ResponseContextManager
    ) -> None:
        """Parse a 200 answer with the matcher's own parser: a body it cannot read is a failure."""
        if answer.status_code != 200:
            return  # locust already counts it as failed
        try:
            candidates = source.parse(request, Response(200, answer.content or b""))
        except CratediggerError as error:
            answer.failure(f"unreadable answer: {error}")  # type: ignore[no-untyped-call]
            return
        if request.kind == "search":
            self.remember(candidates)


class ApiUser(BeatportUser):
    """An API v4 client: a bearer token from the OAuth endpoint, renewed on a 401."""

    abstract = True
    headers: dict[str, str]

    def on_start(self) -> None:
        super().on_start()
        self.headers = {}
        self.authenticate()

    def authenticate(self) -> None:
        form = {"grant_type": "client_credentials", "client_id": "locust"}
        with self.client.post(TOKEN_PATH, data=form, name="token", catch_response=True) as answer:
            token = answer.json().get("access_token") if answer.status_code == 200 else None
            if not token:
                answer.failure(f"no token (HTTP {answer.status_code})")
                return
        self.headers = {"Authorization": f"Bearer {token}"}

    def api_search(self) -> None:
        request = API.search_request(query(self.rng))
        with self.client.get(
            request.target(), headers=self.headers, name="api search", catch_response=True
        ) as answer:
            if answer.status_code == 401:
                self.authenticate()
            self.check(API, request, answer)


class SearchUser(ApiUser):
    """The search mix: API v4 track searches."""

    weight = 3

    @task
    def search(self) -> None:
        self.api_search()


class TrackUser(ApiUser):
    """The track mix: API v4 track details (ids from a search when it knows none)."""

    weight = 2

    @task
    def track(self) -> None:
        if not self.known:
            self.api_search()
            return
        request = API.detail_request(self.rng.choice(self.known))
        with self.client.get(
            request.target(), headers=self.headers, name="api track", catch_response=True
        ) as answer:
            if answer.status_code == 401:
                self.authenticate()
            self.check(API, request, answer)


class PageUser(BeatportUser):
    """The page mix: website search pages, then track pages of their results."""

    weight = 1

    @task(1)
    def search_page(self) -> None:
        request = WEB.search_request(query(self.rng))
        with self.client.get(request.target(), name="web search", catch_response=True) as answer:
            self.check(WEB, request, answer)

    @task(2)
    def track_page(self) -> None:
        if not self.known:
            self.search_page()
            return
        request = WEB.detail_request(self.rng.choice(self.known))
        with self.client.get(
            request.target(), name="web track page", catch_response=True
        ) as answer:
            self.check(WEB, request, answer)
