"""Tokens bound to the address (issue 24): a link sent to one address never acts on another;
the links sent before (the legacy format) are honoured while the address has not changed."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from monitor.web.unsubscribe import (
    TOKEN_LIFETIME,
    Purpose,
    TokenError,
    check_token,
    link_url,
    make_legacy_token,
    make_token,
)
from tests.support.peers import FakeClock

KEY = b"k" * 32


def test_a_token_binds_its_address_not_another() -> None:
    now = FakeClock().now
    claim = check_token(KEY, make_token(KEY, "analyste", "a@example.ma", now), now)
    assert (claim.subscriber, claim.issued, claim.purpose) == ("analyste", now, Purpose.UNSUBSCRIBE)
    assert claim.binds(KEY, "a@example.ma", now + timedelta(days=1))  # whenever it changed
    assert not claim.binds(KEY, "new@example.ma", None)
    assert not claim.binds(KEY, None, None)
    assert not claim.binds(b"o" * 32, "a@example.ma", None)  # the tag is keyed


def test_the_token_does_not_carry_the_address_in_clear() -> None:
    token = make_token(KEY, "analyste", "secret-person@example.ma", FakeClock().now)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"secret-person" not in raw and b"example.ma" not in raw


def test_a_legacy_token_holds_while_the_address_is_unchanged() -> None:
    clock = FakeClock()
    token = make_legacy_token(KEY, "analyste", clock.now)
    later = clock.now + timedelta(days=2)
    claim = check_token(KEY, token, later)
    assert claim.tag is None and claim.subscriber == "analyste"
    assert claim.binds(KEY, "a@example.ma", None)  # never changed since the store knew it
    assert claim.binds(KEY, "a@example.ma", clock.now - timedelta(days=30))  # changed before
    assert not claim.binds(KEY, "new@example.ma", clock.now + timedelta(hours=1))  # after


@pytest.mark.parametrize(
    ("made", "asked"),
    [(Purpose.UNSUBSCRIBE, Purpose.PREFERENCES), (Purpose.PREFERENCES, Purpose.UNSUBSCRIBE)],
)
def test_purposes_are_not_interchangeable(made: Purpose, asked: Purpose) -> None:
    now = FakeClock().now
    token = make_token(KEY, "analyste", "a@example.ma", now, made)
    assert check_token(KEY, token, now, made).purpose == made
    with pytest.raises(TokenError) as caught:
        check_token(KEY, token, now, asked)
    assert caught.value.status == 400


def test_a_legacy_token_is_only_an_unsubscribe_link() -> None:
    now = FakeClock().now
    with pytest.raises(TokenError) as caught:
        check_token(KEY, make_legacy_token(KEY, "analyste", now), now, Purpose.PREFERENCES)
    assert caught.value.status == 400


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
@pytest.mark.parametrize(
    ("key", "age", "status"),
    [
        (b"x" * 32, timedelta(0), 400),  # forged: another key
        (KEY, TOKEN_LIFETIME + timedelta(seconds=1), 410),
        (KEY, -timedelta(hours=1), 400),  # issued in the future
    ],
    ids=["forged", "expired", "future"],
)
def test_forged_expired_or_future(legacy: bool, key: bytes, age: timedelta, status: int) -> None:
    now = FakeClock().now
    token = (
        make_legacy_token(key, "analyste", now)
        if legacy
        else make_token(key, "analyste", "a@example.ma", now)
    )
    with pytest.raises(TokenError) as caught:
        check_token(KEY, token, now + age)
    assert caught.value.status == status


def test_a_current_token_cannot_pass_for_a_legacy_one() -> None:
    """The formats' MACs are kept apart: re-reading one as the other fails."""
    now = FakeClock().now
    token = make_token(KEY, "analyste", "a@example.ma", now)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[0] = ord("x")  # no longer the current format's first byte
    mangled = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        check_token(KEY, mangled, now)


@pytest.mark.parametrize(
    ("purpose", "path"),
    [(Purpose.UNSUBSCRIBE, "unsubscribe"), (Purpose.PREFERENCES, "preferences")],
)
def test_a_digest_s_links_are_made_under_the_public_address(purpose: Purpose, path: str) -> None:
    now = FakeClock().now
    assert link_url(KEY, None, purpose) is None  # no public address: no link
    url = link_url(KEY, "https://veille.example.ma", purpose)
    assert url is not None
    made = url("analyste", "a@example.ma", now)
    prefix = f"https://veille.example.ma/{path}/"
    assert made.startswith(prefix)
    claim = check_token(KEY, made.removeprefix(prefix), now, purpose)
    assert (claim.subscriber, claim.purpose) == ("analyste", purpose)
    assert claim.binds(KEY, "a@example.ma", None)
