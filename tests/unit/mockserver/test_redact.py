"""Redaction of recorded exchanges: headers, JSON, forms, page data, URLs, values seen before."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, quote

import orjson
from hypothesis import given
from hypothesis import strategies as st

from cratedigger.protocol.nextdata import extract_next_data, page_props
from mockserver.redact import (
    REDACTED,
    Exchange,
    RedactionRules,
    Redactor,
    Secrets,
    redact_body,
    redact_headers,
    redact_url,
)
from tests.support import recording

RULES = RedactionRules()
ACCESS = "acc3ss-T0ken-value-0123456789"
REFRESH = "refr3sh-T0ken-value-9876543210"
SEARCH = "https://api.beatport.com/v4/catalog/search/?q=strobe&type=tracks"
TOKEN_URL = "https://api.beatport.com/v4/auth/o/token/"
JSON_HEADERS = (("Content-Type", "application/json"),)
FORM_HEADERS = (("Content-Type", "application/x-www-form-urlencoded"),)


def _exchange(url: str = SEARCH, **parts: object) -> Exchange:
    values: dict[str, object] = {
        "method": "GET",
        "url": url,
        "request_headers": (),
        "request_body": b"",
        "status": 200,
        "response_headers": JSON_HEADERS,
        "response_body": b"{}",
    }
    values.update(parts)
    return Exchange(**values)  # type: ignore[arg-type]


def test_secret_headers_are_redacted_keeping_scheme_and_cookie_names() -> None:
    secrets = Secrets()
    headers = redact_headers(
        [
            ("Authorization", f"Bearer {ACCESS}"),
            ("Cookie", "sessionid=cookie-secret-1; csrftoken=cookie-secret-2"),
            ("Set-Cookie", "sessionid=cookie-secret-3; Path=/; HttpOnly; Secure"),
            ("X-Api-Key", "api-key-secret"),
            ("Accept", "application/json"),
        ],
        RULES,
        secrets,
    )
    assert headers == (
        ("Authorization", f"Bearer {REDACTED}"),
        ("Cookie", f"sessionid={REDACTED}; csrftoken={REDACTED}"),
        ("Set-Cookie", f"sessionid={REDACTED}; Path=/; HttpOnly; Secure"),
        ("X-Api-Key", REDACTED),
        ("Accept", "application/json"),
    )
    for value in (ACCESS, "cookie-secret-1", "cookie-secret-2", "cookie-secret-3"):
        assert value in secrets


def test_extra_names_are_both_headers_and_fields() -> None:
    rules = RULES.extended(["X-Session-Id", "Email"])
    secrets = Secrets()
    assert redact_headers([("x-session-id", "abc")], rules, secrets) == (
        ("x-session-id", REDACTED),
    )
    body = redact_body(b'{"user": {"email": "dj@example.com"}}', "application/json", rules, secrets)
    assert orjson.loads(body) == {"user": {"email": REDACTED}}
    assert redact_headers([("x-session-id", "abc")], RULES, secrets) == (("x-session-id", "abc"),)


def test_json_secret_fields_are_replaced_at_any_depth_keeping_the_shape() -> None:
    body = orjson.dumps(
        {
            "access_token": ACCESS,
            "expires_in": 3600,
            "nested": [{"Refresh_Token": REFRESH, "name": "kept"}],
            "password": {"old": "p4ssword-old", "new": "p4ssword-new"},
            "id_token": None,
        }
    )
    secrets = Secrets()
    redacted = orjson.loads(redact_body(body, "application/json", RULES, secrets))
    assert redacted == {
        "access_token": REDACTED,
        "expires_in": 3600,
        "nested": [{"Refresh_Token": REDACTED, "name": "kept"}],
        "password": {"old": REDACTED, "new": REDACTED},
        "id_token": None,
    }
    assert all(v in secrets for v in (ACCESS, REFRESH, "p4ssword-old", "p4ssword-new"))


def test_json_without_secrets_keeps_its_exact_bytes() -> None:
    body = recording("api-v4-search-tracks-strobe.json").read_bytes()
    assert redact_body(body, "application/json", RULES, Secrets()) is body


def test_token_endpoint_keeps_only_the_harmless_fields() -> None:
    secrets = Secrets()
    request = b"grant_type=password&username=dj&password=hunter2hunter2&client_id=my-client-id"
    form = dict(parse_qsl(redact_body(request, "", RULES, secrets, token=True).decode()))
    assert form == {
        "grant_type": "password",
        "username": REDACTED,
        "password": REDACTED,
        # RFC 6749 2.2: a client id is not a secret (Beatport's public one is on its docs page)
        "client_id": "my-client-id",
    }
    response = orjson.dumps(
        {"access_token": ACCESS, "expires_in": 600, "token_type": "Bearer", "scope": "user:dj"}
    )
    answer = orjson.loads(redact_body(response, "application/json", RULES, secrets, token=True))
    assert answer == {
        "access_token": REDACTED,
        "expires_in": 600,
        "token_type": "Bearer",
        "scope": "user:dj",
    }
    assert redact_body(b"<html>token: x</html>", "text/html", RULES, secrets, token=True) == (
        REDACTED.encode()
    )


def test_form_bodies_elsewhere_lose_only_secret_fields() -> None:
    body = b"q=strobe&password=hunter2hunter2&page=2"
    redacted = redact_body(body, "application/x-www-form-urlencoded", RULES, Secrets())
    assert parse_qsl(redacted.decode()) == [("q", "strobe"), ("password", REDACTED), ("page", "2")]
    plain = b"q=strobe&page=2"
    assert redact_body(plain, "application/x-www-form-urlencoded", RULES, Secrets()) is plain


def test_next_data_access_token_is_redacted_in_a_real_page_that_still_parses() -> None:
    original = recording("web-search-noisia.html").read_bytes()
    secret = "pageAccessToken-Zx81_secret"
    page = original.replace(b'"accessToken": "REDACTED"', f'"accessToken": "{secret}"'.encode())
    assert secret.encode() in page
    secrets = Secrets()
    redacted = redact_body(page, "text/html; charset=utf-8", RULES, secrets)
    assert secret.encode() not in redacted
    assert secret in secrets
    props = page_props(extract_next_data(redacted))
    assert props["accessToken"] == REDACTED
    # The search results are untouched (field names match in any case, so the page's own
    # "Password" hint text goes too: a secret-looking name costs a label, never a secret).
    assert props["dehydratedState"] == page_props(extract_next_data(original))["dehydratedState"]


def test_secret_query_parameters_are_redacted_and_other_urls_untouched() -> None:
    secrets = Secrets()
    url = f"https://api.beatport.com/v4/my/account/?access_token={ACCESS}&q=a+b"
    redacted = redact_url(url, RULES, secrets)
    assert ACCESS not in redacted
    assert parse_qsl(redacted.split("?", 1)[1]) == [("access_token", REDACTED), ("q", "a b")]
    assert redact_url(SEARCH + "&x=%2F", RULES, secrets) == SEARCH + "&x=%2F"


def test_secrets_seen_once_are_scrubbed_everywhere_later() -> None:
    redactor = Redactor()
    token_response = orjson.dumps({"access_token": ACCESS, "refresh_token": REFRESH})
    redactor.exchange(
        _exchange(TOKEN_URL, method="POST", response_body=token_response, request_body=b"")
    )
    later = redactor.exchange(
        _exchange(
            f"{SEARCH}&state={quote(ACCESS)}",
            response_headers=(("Content-Type", "text/plain"), ("X-Echo", REFRESH)),
            response_body=f"your token is {ACCESS}".encode(),
        )
    )
    assert ACCESS not in later.url and quote(ACCESS, safe="") not in later.url
    assert later.response_headers[1] == ("X-Echo", REDACTED)
    assert later.response_body == f"your token is {REDACTED}".encode()


def test_a_whole_exchange_keeps_no_secret() -> None:
    basic = base64.b64encode(b"dj:hunter2hunter2").decode()
    exchange = _exchange(
        TOKEN_URL,
        method="POST",
        request_headers=(*FORM_HEADERS, ("Authorization", f"Basic {basic}")),
        request_body=b"grant_type=client_credentials&client_id=cid-secret-1&client_secret=cs-2",
        response_headers=(*JSON_HEADERS, ("Set-Cookie", "sid=set-cookie-secret; Path=/")),
        response_body=orjson.dumps({"access_token": ACCESS, "refresh_token": REFRESH}),
    )
    text = json.dumps(Redactor().exchange(exchange), default=lambda o: repr(o))
    for secret in (basic, "cs-2", "set-cookie-secret", ACCESS, REFRESH):
        assert secret not in text
    assert "client_id=cid-secret-1" in text  # a client id is no secret (RFC 6749 2.2)


def test_binary_bodies_are_only_scrubbed_of_known_values() -> None:
    secrets = Secrets()
    secrets.add(ACCESS)
    body = b"\x89PNG\r\n\x1a\n\xff\xfe" + ACCESS.encode() + b"\x00"
    assert redact_body(body, "image/png", RULES, secrets) == body  # by name: nothing to find
    assert secrets.scrub(body) == b"\x89PNG\r\n\x1a\n\xff\xfe" + REDACTED.encode() + b"\x00"


def test_short_values_are_not_remembered() -> None:
    secrets = Secrets()
    for value in ("", "abc", "1234567", REDACTED, f"Bearer {REDACTED}"):
        secrets.add(value)
    assert len(secrets) == 0
    assert secrets.scrub(b"abc 1234567") == b"abc 1234567"


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=8))
def test_any_token_value_is_gone_from_a_token_response(secret: str) -> None:
    body = orjson.dumps({"access_token": secret, "refresh_token": secret[::-1]})
    redactor = Redactor()
    redacted = redactor.exchange(_exchange(TOKEN_URL, method="POST", response_body=body))
    assert orjson.loads(redacted.response_body) == {
        "access_token": REDACTED,
        "refresh_token": REDACTED,
    }


def test_a_key_spelled_with_escapes_is_still_found() -> None:
    body = b'{"name": "caf\\u00e9", "access\\u005ftoken": "' + ACCESS.encode() + b'"}'
    redacted = redact_body(body, "application/json", RULES, Secrets())
    assert orjson.loads(redacted) == {"name": "café", "access_token": REDACTED}


def test_a_grant_in_the_token_request_query_is_redacted_too() -> None:
    url = f"{TOKEN_URL}?grant_type=password&username=dj-name&password=hunter2hunter2"
    redacted = redact_url(url, RULES, Secrets(), token=True)
    assert parse_qsl(redacted.split("?", 1)[1]) == [
        ("grant_type", "password"),
        ("username", REDACTED),
        ("password", REDACTED),
    ]


# -- a sign-in ------------------------------------------------------------------------------

AUTHORIZE_URL = (
    "https://api.beatport.com/v4/auth/o/authorize/?response_type=code&client_id=public-client"
    "&redirect_uri=https%3A%2F%2Fapi.beatport.com%2Fv4%2Fauth%2Fo%2Fpost-message%2F"
)
CODE = "auth-code-Z8s7d6f5g4h3"
POST_MESSAGE = "https://api.beatport.com/v4/auth/o/post-message/"


def test_a_sign_in_leaves_no_password_cookie_csrf_token_or_code() -> None:
    redactor = Redactor()
    login = redactor.exchange(
        _exchange(
            "https://api.beatport.com/v4/auth/login/",
            method="POST",
            request_headers=(*JSON_HEADERS, ("X-CSRFToken", "csrf-header-value-1")),
            request_body=orjson.dumps({"username": "dj", "password": "hunter2hunter2"}),
            response_headers=(
                *JSON_HEADERS,
                ("Set-Cookie", "sessionid=session-cookie-value; HttpOnly; Path=/"),
                ("Set-Cookie", "csrftoken=csrf-cookie-value-2; Path=/"),
            ),
            response_body=orjson.dumps({"username": "dj", "email": "dj@example.com"}),
        )
    )
    assert orjson.loads(login.request_body) == {"username": "dj", "password": REDACTED}
    assert login.response_headers[1:] == (
        ("Set-Cookie", f"sessionid={REDACTED}; HttpOnly; Path=/"),
        ("Set-Cookie", f"csrftoken={REDACTED}; Path=/"),
    )
    assert orjson.loads(login.response_body)["email"] == "dj@example.com"  # no secret
    authorize = redactor.exchange(
        _exchange(
            AUTHORIZE_URL,
            request_headers=(("Cookie", "sessionid=session-cookie-value"),),
            status=302,
            response_headers=(("Location", f"{POST_MESSAGE}?code={CODE}&state=s1"),),
            response_body=b"",
        )
    )
    assert authorize.url == AUTHORIZE_URL  # nothing secret in it: untouched
    assert authorize.request_headers == (("Cookie", f"sessionid={REDACTED}"),)
    assert authorize.response_headers == (("Location", f"{POST_MESSAGE}?code={REDACTED}&state=s1"),)
    token_url = (
        f"{TOKEN_URL}?code={CODE}&grant_type=authorization_code"
        f"&redirect_uri={quote(POST_MESSAGE, safe='')}&client_id=public-client"
    )
    token = redactor.exchange(
        _exchange(
            token_url,
            method="POST",
            response_body=orjson.dumps({"access_token": ACCESS, "refresh_token": REFRESH}),
        )
    )
    # The client id and redirect URI are no secrets: a replayed token request still matches.
    assert dict(parse_qsl(token.url.partition("?")[2])) == {
        "code": REDACTED,
        "grant_type": "authorization_code",
        "redirect_uri": POST_MESSAGE,
        "client_id": "public-client",
    }
    text = json.dumps([login, authorize, token], default=repr)
    for secret in (
        "hunter2hunter2",
        "session-cookie-value",
        "csrf-cookie-value-2",
        "csrf-header-value-1",
        CODE,
        ACCESS,
        REFRESH,
    ):
        assert secret not in text


def test_code_is_secret_in_urls_only_and_csrf_form_fields_are_secret() -> None:
    secrets = Secrets()
    assert redact_url("/cb?code=abcdefgh12&x=1", RULES, secrets) == f"/cb?code={REDACTED}&x=1"
    body = orjson.dumps({"currency": {"code": "USD"}, "country": {"code": "GB"}})
    assert redact_body(body, "application/json", RULES, secrets) == body
    form = b"csrfmiddlewaretoken=csrf-form-value-1&username=dj"
    redacted = redact_body(form, "application/x-www-form-urlencoded", RULES, secrets)
    assert parse_qsl(redacted.decode()) == [("csrfmiddlewaretoken", REDACTED), ("username", "dj")]
    extended = RULES.extended(["ticket"])
    assert redact_url("/x?ticket=t1", extended, secrets) == f"/x?ticket={REDACTED}"
