"""The pure parts of WebSub: the signature check and the timing of requests to hubs."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config.sections import NetworkConfig
from monitor.core.errors import FetchError
from monitor.net.http import HttpClient
from monitor.push.hub import ask, request_form, secure
from monitor.push.signature import signed
from monitor.push.timing import (
    MAX_LEASE,
    RETRY_CAP,
    granted_lease,
    renew_at,
    retry_at,
    verify_by,
)
from monitor.store.push import Subscription

BODY = "<rss>démarchage</rss>".encode()
SECRET = "s3cret"
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def sign(method: str, secret: str = SECRET, body: bytes = BODY) -> str:
    return f"{method}={hmac.new(secret.encode(), body, method).hexdigest()}"


@pytest.mark.parametrize(
    ("header", "valid"),
    [
        (sign("sha1"), True),
        (sign("sha256"), True),
        (sign("sha384"), True),
        (sign("sha512"), True),
        (sign("sha256").upper().replace("SHA256=", "sha256="), True),  # hex in capitals
        (sign("sha256", "other"), False),  # another secret
        (sign("sha256", body=b"<rss>autre</rss>"), False),  # another body
        (sign("md5"), False),  # not a method WebSub names
        ("sha256=", False),
        ("sha256", False),
        ("", False),
        (None, False),
        ("sha256=" + "é" * 64, False),  # not hex, not even ASCII: refused, not an error
        ("sha256=" + hashlib.sha256(BODY).hexdigest(), False),  # a digest without the secret
    ],
)
def test_signature(header: str | None, valid: bool) -> None:
    assert signed(SECRET, BODY, header) is valid


@pytest.mark.parametrize(
    ("given", "granted"),
    [
        ("3600", timedelta(hours=1)),
        (" 86400 ", timedelta(days=1)),
        (None, timedelta(days=10)),  # the hub says nothing: what we asked
        ("", timedelta(days=10)),
        ("0", timedelta(days=10)),
        ("-5", timedelta(days=10)),
        ("1e9", timedelta(days=10)),
        ("٣٦٠٠", timedelta(days=10)),  # digits, but not ASCII ones
        ("99999999999", MAX_LEASE),
    ],
)
def test_granted_lease(given: str | None, granted: timedelta) -> None:
    assert granted_lease(given, timedelta(days=10)) == granted


def test_a_lease_is_renewed_with_a_fifth_of_it_left() -> None:
    assert renew_at(T0, timedelta(days=10)) == T0 + timedelta(days=8)
    assert renew_at(T0, timedelta(hours=1)) == T0 + timedelta(minutes=48)
    assert renew_at(T0, timedelta(minutes=1)) == T0 + timedelta(minutes=5)  # not every minute


def test_retries_back_off_to_a_cap() -> None:
    delays = [retry_at(T0, attempt) - T0 for attempt in range(1, 20)]
    assert timedelta(seconds=48) <= delays[0] <= timedelta(seconds=72)  # a minute, jittered
    assert all(delay <= RETRY_CAP for delay in delays)
    assert delays[-1] >= RETRY_CAP * 0.8


def test_the_request_forms() -> None:
    sub = Subscription(
        "cb", "leseco", "https://hub.example/", "https://leseco.ma/feed", "k", True, T0
    )
    assert request_form(sub, "https://veille.example/websub/cb", timedelta(days=10)) == {
        "hub.mode": "subscribe",
        "hub.callback": "https://veille.example/websub/cb",
        "hub.topic": "https://leseco.ma/feed",
        "hub.lease_seconds": "864000",
        "hub.secret": "k",
    }
    leaving = Subscription(
        "cb", "leseco", "https://hub.example/", "https://leseco.ma/feed", "k", False, T0
    )
    # no secret nor lease: an unsubscription carries neither
    assert request_form(leaving, "https://veille.example/websub/cb", timedelta(days=10)) == {
        "hub.mode": "unsubscribe",
        "hub.callback": "https://veille.example/websub/cb",
        "hub.topic": "https://leseco.ma/feed",
    }


def test_a_request_the_hub_never_verifies_is_sent_again_less_and_less_often() -> None:
    waits = [verify_by(T0, attempts) - T0 for attempts in range(12)]
    assert waits[:4] == [timedelta(minutes=10)] * 4  # the hub's time to verify
    # then the backoff: 16 minutes ±20 % at the fifth request, doubling up to the cap
    assert timedelta(minutes=12.8) <= waits[4] <= timedelta(minutes=19.2)
    assert timedelta(minutes=25.6) <= waits[5] <= timedelta(minutes=38.4)
    assert RETRY_CAP * 0.8 <= waits[-1] <= RETRY_CAP


@pytest.mark.parametrize(
    ("hub", "asked"),
    [
        ("https://pubsubhubbub.appspot.com/", "https://pubsubhubbub.appspot.com/"),
        ("http://pubsubhubbub.appspot.com/", "https://pubsubhubbub.appspot.com/"),  # the secret
        ("http://8.8.8.8/hub", "https://8.8.8.8/hub"),  # a public address
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),  # loopback: as given
        ("http://10.1.2.3/hub", "http://10.1.2.3/hub"),  # a private network: as given
    ],
)
def test_hubs_are_asked_over_https_but_on_private_addresses(hub: str, asked: str) -> None:
    assert secure(hub) == asked


async def test_a_hub_address_that_cannot_be_used_is_a_fetch_error() -> None:
    sub = Subscription("cb", "leseco", "http://hub.example:99999/", "https://x.ma/f", "k", True, T0)
    async with HttpClient(NetworkConfig()) as http:
        with pytest.raises(FetchError, match="hub's address cannot be used"):
            await ask(http, sub, "https://veille.example/websub/cb", timedelta(days=1))
