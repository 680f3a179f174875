"""Take the secrets out of a recorded HTTP exchange before it is written to a HAR file.

Two passes. By name: secret headers (Authorization, cookies...), secret fields of JSON and
form bodies and of `"name": "value"` pairs in HTML or scripts (the website's `__NEXT_DATA__`
carries an `accessToken`), secret query parameters, and every credential of a token endpoint
become "REDACTED", keeping the shape: a recorded token response is still a token response.
By value: each secret removed by name is remembered, and wherever it turns up later (a URL,
another body, a later exchange) it is replaced too, so a token copied around is caught.

A sign-in (`POST /v4/auth/login/`, the authorization endpoint, the token endpoint) carries
the password (a secret field), the session and CSRF cookies (secret headers), and the
authorization code, a secret query parameter wherever a URL carries it: the redirect's
Location, the token request. A replayed sign-in still works: the client gets REDACTED for
a cookie and a code, and sends them back as it got them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Final
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import orjson

__all__ = [
    "REDACTED",
    "SECRET_FIELDS",
    "SECRET_HEADERS",
    "SECRET_PARAMS",
    "Exchange",
    "RedactionRules",
    "Redactor",
    "Secrets",
    "redact_body",
    "redact_headers",
    "redact_url",
]

REDACTED: Final = "REDACTED"
_REDACTED_BYTES: Final = REDACTED.encode()

# Header names, lower case. Session and CSRF headers let anyone who reads the file act as
# the user, so they count as secrets as well as the credentials proper.
SECRET_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-access-token",
        "x-csrftoken",
        "x-csrf-token",
    }
)
# JSON, form, query and page-data field names, lower case (matching ignores case).
SECRET_FIELDS: Final = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "client_secret",
        "password",
        "code_verifier",
        "sessionid",
        "csrftoken",
        "csrfmiddlewaretoken",
    }
)
# Names secret only as query parameters of a URL (a request's, a Location's): an OAuth
# authorization code. In bodies "code" means too many other things (currency, country).
SECRET_PARAMS: Final = frozenset({"code"})
# At a token endpoint everything is a credential except these (the client needs them to
# read a replayed answer, and they say nothing about the account). A public client's id is
# published on Beatport's docs page and the redirect URI is Beatport's own: keeping them lets
# a replayed sign-in's token request match its recording.
TOKEN_ENDPOINT_KEEP: Final = frozenset(
    {
        "grant_type",
        "scope",
        "token_type",
        "expires_in",
        "error",
        "error_description",
        "client_id",
        "redirect_uri",
        "response_type",
    }
)
TOKEN_ENDPOINT: Final = re.compile(r"/o/(?:token|revoke_token|introspect)/?$")
# Shorter values are not remembered: replacing every "1234" in later bodies would wreck them.
MIN_SECRET_LENGTH: Final = 8
_AUTH_HEADERS: Final = frozenset({"authorization", "proxy-authorization"})
_URL_HEADERS: Final = frozenset({"location", "content-location", "referer"})
_BINARY_TYPES: Final = ("image/", "audio/", "video/", "font/", "application/octet-stream")

Headers = tuple[tuple[str, str], ...]
_IsSecret = Callable[[str], bool]  # is a field of this name secret?


@dataclass(frozen=True, slots=True)
class Exchange:
    """The parts of one HTTP exchange that can carry secrets (bodies as sent, decoded)."""

    method: str
    url: str
    request_headers: Headers
    request_body: bytes
    status: int
    response_headers: Headers
    response_body: bytes


@dataclass(frozen=True, slots=True)
class RedactionRules:
    """Which header, field and query parameter names are secret (lower case), and what a
    token endpoint is."""

    headers: frozenset[str] = SECRET_HEADERS
    fields: frozenset[str] = SECRET_FIELDS
    params: frozenset[str] = SECRET_PARAMS
    token_endpoint: re.Pattern[str] = TOKEN_ENDPOINT
    _keys: re.Pattern[bytes] = field(init=False, repr=False, compare=False)
    _text_pairs: re.Pattern[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Bytes, so that a 250 KB page is searched without decoding it; the look-ahead on
        # first letters lets most of a page's quotes fail fast.
        names = sorted((name.encode() for name in self.fields), key=len, reverse=True)
        first = b"".join(sorted({re.escape(name[:1]) for name in names}))
        key = rb'"(?=[%s])(?:%s)"\s*:\s*' % (first, b"|".join(re.escape(n) for n in names))
        pairs = rb'(?P<head>%s")(?P<value>(?:[^"\\]|\\.)*)"' % key
        object.__setattr__(self, "_keys", re.compile(key, re.IGNORECASE))
        object.__setattr__(self, "_text_pairs", re.compile(pairs, re.IGNORECASE))

    def extended(self, names: Iterable[str]) -> RedactionRules:
        """These rules plus `names`, each taken as a header, a field and a parameter name."""
        extra = frozenset(name.strip().lower() for name in names if name.strip())
        return replace(
            self,
            headers=self.headers | extra,
            fields=self.fields | extra,
            params=self.params | extra,
        )

    def may_name_a_secret(self, body: bytes) -> bool:
        """Whether a JSON `body` can hold a secret field (False: no need to parse it)."""
        # An escaped key ("access\\u005ftoken") only shows once decoded: parse those.
        return b"\\u" in body or self._keys.search(body) is not None

    @property
    def text_pairs(self) -> re.Pattern[bytes]:
        """`"field": "value"` pairs with a secret field name, in any text."""
        return self._text_pairs


class Secrets:
    """Secret values seen so far, to be replaced wherever else they appear."""

    def __init__(self, min_length: int = MIN_SECRET_LENGTH) -> None:
        self._min_length = min_length
        self._values: set[str] = set()
        self._needles: list[bytes] | None = []

    def add(self, value: str) -> None:
        """Remember `value` (too short, empty and already redacted values are ignored)."""
        value = value.strip()
        if len(value) >= self._min_length and REDACTED not in value and value not in self._values:
            self._values.add(value)
            self._needles = None

    def __contains__(self, value: str) -> bool:
        return value in self._values

    def __len__(self) -> int:
        return len(self._values)

    def _variants(self) -> list[bytes]:
        if self._needles is None:
            # As written, and as it reads inside a URL or a form; longest first, so that a
            # secret containing another is replaced whole.
            forms = {f(v) for v in self._values for f in (str, quote_plus, _quote_all)}
            self._needles = sorted((f.encode() for f in forms), key=len, reverse=True)
        return self._needles

    def scrub(self, data: bytes) -> bytes:
        """`data` with every remembered secret replaced by REDACTED."""
        for needle in self._variants():
            if needle in data:  # a C-speed scan; replace() only where there is something
                data = data.replace(needle, _REDACTED_BYTES)
        return data

    def scrub_text(self, text: str) -> str:
        """`scrub` for text."""
        if not self._values:
            return text
        return self.scrub(text.encode(errors="surrogateescape")).decode(errors="surrogateescape")


def _quote_all(value: str) -> str:
    return quote(value, safe="")


def _redact_header(name: str, value: str, secrets: Secrets) -> str:
    lower = name.lower()
    if lower in _AUTH_HEADERS:
        scheme, _, credentials = value.strip().partition(" ")
        if not credentials:
            secrets.add(scheme)
            return REDACTED
        secrets.add(credentials)
        return f"{scheme} {REDACTED}"
    if lower == "cookie":
        return "; ".join(_redact_cookie(pair, secrets) for pair in value.split(";"))
    if lower == "set-cookie":
        first, sep, attributes = value.partition(";")
        return _redact_cookie(first, secrets) + sep + attributes
    secrets.add(value)
    return REDACTED


def _redact_cookie(pair: str, secrets: Secrets) -> str:
    name, sep, value = pair.strip().partition("=")
    secrets.add(value.strip('"'))
    return f"{name}={REDACTED}" if sep else REDACTED


def redact_headers(
    headers: Iterable[tuple[str, str]], rules: RedactionRules, secrets: Secrets
) -> Headers:
    """Headers with secret values replaced (an Authorization header keeps its scheme)."""
    redacted: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower in rules.headers:
            value = _redact_header(name, value, secrets)
        elif lower in _URL_HEADERS:
            value = redact_url(value, rules, secrets)
        redacted.append((name, value))
    return tuple(redacted)


def redact_url(url: str, rules: RedactionRules, secrets: Secrets, *, token: bool = False) -> str:
    """`url` with the values of secret query parameters replaced (`token`: as for bodies;
    some clients send the grant in the token request's query string)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    is_field = _is_secret(rules, token)

    def is_secret(name: str) -> bool:
        return is_field(name) or name.lower() in rules.params

    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(is_secret(name) for name, _ in pairs):
        return url  # untouched: re-encoding could change how the other parameters read
    redacted = []
    for name, value in pairs:
        if is_secret(name):
            secrets.add(value)
            value = REDACTED
        redacted.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(redacted)))


def _walk(value: object, secret: bool, is_secret: _IsSecret, secrets: Secrets) -> object:
    """`value` with every string or number under a secret name replaced; None if unchanged."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        changed = False
        for key, item in value.items():
            new = _walk(item, secret or is_secret(key), is_secret, secrets)
            changed = changed or new is not None
            out[key] = item if new is None else new
        return out if changed else None
    if isinstance(value, list):
        items = [_walk(item, secret, is_secret, secrets) for item in value]
        if all(item is None for item in items):
            return None
        return [old if new is None else new for old, new in zip(value, items, strict=True)]
    if secret and isinstance(value, str | int | float) and not isinstance(value, bool):
        if value in ("", REDACTED):
            return None
        secrets.add(str(value))
        return REDACTED
    return None


def _is_secret(rules: RedactionRules, token_endpoint: bool) -> _IsSecret:
    if token_endpoint:
        return lambda name: name.lower() not in TOKEN_ENDPOINT_KEEP
    return lambda name: name.lower() in rules.fields


def _redact_json(body: bytes, is_secret: _IsSecret, secrets: Secrets) -> bytes | None:
    """The JSON `body` redacted (the same bytes when nothing is secret); None if not JSON."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    redacted = _walk(data, False, is_secret, secrets)
    return body if redacted is None else orjson.dumps(redacted)


def _redact_form(body: bytes, is_secret: _IsSecret, secrets: Secrets) -> bytes | None:
    """The urlencoded form `body` redacted; None if it is not a form."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    if not any(is_secret(name) for name, _ in pairs):
        return body
    redacted = []
    for name, value in pairs:
        if is_secret(name) and value:
            secrets.add(value)
            value = REDACTED
        redacted.append((name, value))
    return urlencode(redacted).encode()


def _redact_text(body: bytes, rules: RedactionRules, secrets: Secrets) -> bytes:
    """`"field": "value"` pairs in text (HTML, scripts) redacted in place."""

    def replace_value(match: re.Match[bytes]) -> bytes:
        secrets.add(match["value"].decode("utf-8", "replace"))
        return match["head"] + _REDACTED_BYTES + b'"'

    return rules.text_pairs.sub(replace_value, body)


def _media_type(headers: Iterable[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.partition(";")[0].strip().lower()
    return ""


def redact_body(
    body: bytes, media_type: str, rules: RedactionRules, secrets: Secrets, *, token: bool = False
) -> bytes:
    """A request or response body with its secret fields replaced, keeping its format.

    `token`: the body of a token endpoint, where every field but TOKEN_ENDPOINT_KEEP is a
    credential; such a body that is neither JSON nor a form is replaced whole.
    """
    if not body:
        return body
    is_secret = _is_secret(rules, token)
    looks_json = "json" in media_type or body.lstrip()[:1] in (b"{", b"[")
    redacted: bytes | None = None
    if media_type == "application/x-www-form-urlencoded" or (token and not looks_json):
        redacted = _redact_form(body, is_secret, secrets)
    elif looks_json:
        if not token and not rules.may_name_a_secret(body):
            return body
        redacted = _redact_json(body, is_secret, secrets)
    if redacted is not None:
        return redacted
    if token:
        return _REDACTED_BYTES
    if media_type.startswith(_BINARY_TYPES):
        return body  # only remembered secrets are scrubbed from these
    return _redact_text(body, rules, secrets)


class Redactor:
    """Redacts exchange after exchange, remembering the secrets it has removed so far."""

    def __init__(self, rules: RedactionRules | None = None) -> None:
        self.rules = rules or RedactionRules()
        self.secrets = Secrets()

    def exchange(self, exchange: Exchange) -> Exchange:
        """`exchange` with no secret left in its URL, headers or bodies."""
        rules, secrets = self.rules, self.secrets
        token = bool(rules.token_endpoint.search(urlsplit(exchange.url).path))
        request_headers = redact_headers(exchange.request_headers, rules, secrets)
        response_headers = redact_headers(exchange.response_headers, rules, secrets)
        url = redact_url(exchange.url, rules, secrets, token=token)
        request_body = redact_body(
            exchange.request_body, _media_type(request_headers), rules, secrets, token=token
        )
        response_body = redact_body(
            exchange.response_body, _media_type(response_headers), rules, secrets, token=token
        )
        # Only now is every secret of this exchange known: scrub them all from all of it.
        scrub = secrets.scrub_text
        return replace(
            exchange,
            url=scrub(url),
            request_headers=tuple((n, scrub(v)) for n, v in request_headers),
            request_body=secrets.scrub(request_body),
            response_headers=tuple((n, scrub(v)) for n, v in response_headers),
            response_body=secrets.scrub(response_body),
        )
