"""The mock's tokens and codes look like Beatport's: 30 letters and digits, never a dash first."""

from __future__ import annotations

from mockserver.auth import TOKEN_LENGTH, TokenStore, oauth_token


def test_tokens_are_letters_and_digits_so_a_command_line_takes_them() -> None:
    # token_urlsafe gave '-...' one time in 64: `--token -x...` is then read as an option
    # (a whoami test failed that way on a fresh clone).
    tokens = [oauth_token() for _ in range(2000)]
    assert all(len(t) == TOKEN_LENGTH and t.isascii() and t.isalnum() for t in tokens)
    assert len(set(tokens)) == len(tokens)


def test_issued_tokens_use_them() -> None:
    token = TokenStore(ttl=3600).issue()
    assert token.access_token.isalnum() and token.refresh_token.isalnum()
