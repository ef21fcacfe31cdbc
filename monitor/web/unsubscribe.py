"""Signed tokens of the links a digest carries: one-click unsubscribe (RFC 8058) and, next,
the subscriber's preferences page. A token names a subscriber *and* the address the link was
sent to, so a link sent to one address never acts on another (issue 24).

Current format, base64url of::

    0x02 | purpose (1 byte) | issued (8 bytes, seconds) | address tag (8 bytes) | name
    | HMAC-SHA256(b"monitor-token-v2\\0" + all of the above)

The address tag is a truncated HMAC of the address (not the address in clear: the URL may end
up in logs). The purpose keeps an unsubscribe token from acting as a preferences one and the
other way round. The MAC's prefix keeps the two formats' MACs apart.

Legacy format (links sent before issue 24, still honoured): ``name NUL issued HMAC(name NUL
issued)``. It names no address, so it is honoured only if the subscriber's address has not
changed since it was issued (the store's ``subscribers.target_since``), and only to unsubscribe.

Both are accepted for ``TOKEN_LIFETIME`` after the digest that carried them was formed (so a
retried message is identical). The key is drawn once at random and kept in the store's
``settings`` table, so links in mailboxes keep working across restarts and replicas.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import IntEnum

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store.settings import setting

TOKEN_LIFETIME = timedelta(days=90)
CLOCK_SKEW = timedelta(minutes=5)  # a token issued "in the future" by this much is forged
KEY_SETTING = "unsubscribe_key"
_MAC = 32
_TIME = 8
_TAG = 8  # bytes of the address's HMAC: a forger must guess 2^64 values
_VERSION = 2
_V2_DOMAIN = b"monitor-token-v2\0"
_V2_HEAD = 1 + 1 + _TIME + _TAG


class Purpose(IntEnum):
    """What a token may do; one kind is never accepted as the other."""

    UNSUBSCRIBE = 1
    PREFERENCES = 2


class TokenError(Exception):
    """A token that must not act on anyone; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class TokenClaim:
    subscriber: str
    issued: datetime
    purpose: Purpose = Purpose.UNSUBSCRIBE
    tag: bytes | None = None  # the address's tag; None: a legacy token, bound by time only

    def binds(self, key: bytes, address: str | None, address_since: datetime | None) -> bool:
        """Whether this token may act on a subscriber now at ``address``, its address since
        ``address_since`` (None: unchanged since the store knew it)."""
        if self.tag is None:
            return address_since is None or address_since <= self.issued
        return address is not None and hmac.compare_digest(self.tag, address_tag(key, address))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def address_tag(key: bytes, address: str) -> bytes:
    """The short HMAC of an address a token carries in its place."""
    return _mac(key, b"address\0" + address.encode())[:_TAG]


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_token(
    key: bytes,
    subscriber: str,
    address: str,
    issued: datetime,
    purpose: Purpose = Purpose.UNSUBSCRIBE,
) -> str:
    """A token for ``subscriber`` at ``address``, for ``purpose``, issued at ``issued``."""
    stamp = int(issued.timestamp()).to_bytes(_TIME, "big")
    payload = bytes([_VERSION, purpose]) + stamp + address_tag(key, address) + subscriber.encode()
    return _encode(payload + _mac(key, _V2_DOMAIN + payload))


# (subscriber, address, issued) -> the URL of a link a digest carries
LinkUrl = Callable[[str, str, datetime], str]
_PATHS = {Purpose.UNSUBSCRIBE: "unsubscribe", Purpose.PREFERENCES: "preferences"}


def link_url(key: bytes, base_url: str | None, purpose: Purpose) -> LinkUrl | None:
    """How a digest's link for ``purpose`` is made under the server's public address
    (``http.base_url``); None without one: the digest carries no such link."""
    if base_url is None:
        return None
    path = _PATHS[purpose]

    def url(name: str, address: str, issued: datetime) -> str:
        return f"{base_url}/{path}/{make_token(key, name, address, issued, purpose)}"

    return url


def make_legacy_token(key: bytes, subscriber: str, issued: datetime) -> str:
    """A token as digests carried before issue 24 (for tests: no longer issued)."""
    seconds = int(issued.timestamp())
    payload = subscriber.encode() + b"\0" + seconds.to_bytes(_TIME, "big")
    return _encode(payload + _mac(key, payload))


def _issued(stamp: bytes, now: datetime) -> datetime:
    issued = datetime.fromtimestamp(int.from_bytes(stamp, "big"), UTC)
    if issued > now + CLOCK_SKEW:
        raise TokenError("invalid token", 400)
    if now - issued > TOKEN_LIFETIME:
        raise TokenError("expired token", 410)
    return issued


def _current(key: bytes, payload: bytes, mac: bytes, now: datetime, purpose: Purpose) -> TokenClaim:
    if len(payload) <= _V2_HEAD or not hmac.compare_digest(mac, _mac(key, _V2_DOMAIN + payload)):
        raise TokenError("invalid token", 400)
    if payload[1] != purpose:
        raise TokenError("invalid token: not meant for this page", 400)
    issued = _issued(payload[2 : 2 + _TIME], now)
    name = payload[_V2_HEAD:].decode("utf-8", "replace")
    return TokenClaim(name, issued, purpose, payload[2 + _TIME : _V2_HEAD])


def _legacy(key: bytes, payload: bytes, mac: bytes, now: datetime, purpose: Purpose) -> TokenClaim:
    if len(payload) < _TIME + 2 or not hmac.compare_digest(mac, _mac(key, payload)):
        raise TokenError("invalid token", 400)
    name, sep, stamp = payload[: -_TIME - 1], payload[-_TIME - 1 : -_TIME], payload[-_TIME:]
    if sep != b"\0":
        raise TokenError("invalid token", 400)
    if purpose != Purpose.UNSUBSCRIBE:  # legacy links were all unsubscribe links
        raise TokenError("invalid token: not meant for this page", 400)
    return TokenClaim(name.decode("utf-8", "replace"), _issued(stamp, now), purpose, None)


def check_token(
    key: bytes, token: str, now: datetime, purpose: Purpose = Purpose.UNSUBSCRIBE
) -> TokenClaim:
    """What a genuine, unexpired token for ``purpose`` claims; TokenError (400 forged or for
    another purpose, 410 expired). Whether it binds the subscriber's current address is
    :meth:`TokenClaim.binds`, asked with what the store holds."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed token", 400) from None
    if len(raw) <= _MAC:
        raise TokenError("invalid token", 400)
    payload, mac = raw[:-_MAC], raw[-_MAC:]
    # a legacy payload starts with a name (letters, digits, '_', '.', '-'): never byte 0x02
    read = _current if payload[0] == _VERSION else _legacy
    return read(key, payload, mac, now, purpose)


async def load_key(engine: AsyncEngine) -> bytes:
    """The token key kept in the store, drawn at random the first time (race-free)."""
    fresh = base64.b64encode(secrets.token_bytes(32)).decode()
    return base64.b64decode(await setting(engine, KEY_SETTING, fresh))
