"""The mock's router: aiohttp-style patterns, parameters, methods (no sockets)."""

from __future__ import annotations

import pytest
from aiohttp import web

from mockserver.routing import Params, Router


async def _one(request: web.BaseRequest, params: Params) -> web.StreamResponse:
    return web.Response(text="one")


async def _two(request: web.BaseRequest, params: Params) -> web.StreamResponse:
    return web.Response(text="two")


def _router() -> Router:
    router = Router()
    router.add_routes(
        [
            ("GET", "/v4/catalog/tracks/", _one),
            ("GET", r"/v4/catalog/tracks/{track_id:\d+}/", _two),
            ("GET", r"/track/{slug}/{track_id:\d+}", _one),
            ("POST", "/v4/auth/o/token/", _two),
            ("PATCH", "/__admin/config", _one),
            ("GET", "/__admin/config", _two),
        ]
    )
    return router


def test_static_and_dynamic_paths_and_their_parameters() -> None:
    router = _router()
    found = router.match("/v4/catalog/tracks/")
    assert found is not None and found[0]["GET"] is _one and dict(found[1]) == {}
    found = router.match("/v4/catalog/tracks/123/")
    assert found is not None and found[0]["GET"] is _two
    assert dict(found[1]) == {"track_id": "123"}
    found = router.match("/track/some-slug/77")
    assert found is not None and dict(found[1]) == {"slug": "some-slug", "track_id": "77"}


def test_a_parameter_matches_one_segment_and_its_regex_whole() -> None:
    router = _router()
    for path in (
        "/v4/catalog/tracks/12x/",  # not \d+
        "/v4/catalog/tracks/123",  # no trailing slash
        "/track/a/b/77",  # {slug} is one segment
        "/track/x/77/",
        "/nowhere",
    ):
        assert router.match(path) is None, path


def test_parameters_are_decoded_as_aiohttp_does() -> None:
    # The router gets aiohttp's path_safe: every escape decoded but %2F and %25, and any
    # that is not UTF-8. Those two are decoded in a parameter; the rest stay as they are.
    router = _router()
    found = router.match("/track/caf\u00e9/5")
    assert found is not None and found[1]["slug"] == "caf\u00e9"
    found = router.match("/track/a%2Fb%25c/5")
    assert found is not None and found[1]["slug"] == "a/b%c"
    found = router.match("/track/%E9/5")
    assert found is not None and found[1]["slug"] == "%E9"


def test_get_answers_head_and_methods_of_one_pattern_share_it() -> None:
    router = _router()
    assert router.takes("HEAD", "/v4/catalog/tracks/1/")
    assert not router.takes("POST", "/v4/catalog/tracks/1/")
    found = router.match("/__admin/config")
    assert found is not None and set(found[0]) == {"GET", "HEAD", "PATCH"}
    found = router.match("/v4/auth/o/token/")
    assert found is not None and set(found[0]) == {"POST"}  # no HEAD without a GET


def test_head_can_be_left_out() -> None:
    router = Router()
    router.add_routes([("GET", "/__admin/stats", _one)], head=False)
    assert router.takes("GET", "/__admin/stats") and not router.takes("HEAD", "/__admin/stats")


def test_a_method_is_routed_once() -> None:
    router = _router()
    with pytest.raises(ValueError, match="already routed"):
        router.add("get", "/v4/catalog/tracks/", _two)
