"""Signed one-click unsubscribe tokens (RFC 8058).

A token is the base64url of ``name NUL issued (8 bytes, seconds) HMAC-SHA256(name NUL issued)``.
It names the subscriber and the time its digest was formed (so a retried message is identical),
and is accepted for ``TOKEN_LIFETIME`` after that. The key is drawn once at random and kept in
the store's ``settings`` table, so links in mailboxes keep working across restarts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store.settings import setting

TOKEN_LIFETIME = timedelta(days=90)
CLOCK_SKEW = timedelta(minutes=5)  # a token issued "in the future" by this much is forged
KEY_SETTING = "unsubscribe_key"
_MAC = 32
_TIME = 8


class TokenError(Exception):
    """A token that must not unsubscribe anyone; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class TokenClaim:
    subscriber: str
    issued: datetime


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def make_token(key: bytes, subscriber: str, issued: datetime) -> str:
    seconds = int(issued.timestamp())
    payload = subscriber.encode() + b"\0" + seconds.to_bytes(_TIME, "big")
    return base64.urlsafe_b64encode(payload + _mac(key, payload)).rstrip(b"=").decode()


def check_token(key: bytes, token: str, now: datetime) -> TokenClaim:
    """The subscriber a genuine, unexpired token names; TokenError (400 forged, 410 expired)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed token", 400) from None
    payload, mac = raw[:-_MAC], raw[-_MAC:]
    if len(raw) < _MAC + _TIME + 2 or not hmac.compare_digest(mac, _mac(key, payload)):
        raise TokenError("invalid token", 400)
    name, sep, stamp = payload[:-_TIME], payload[-_TIME - 1 : -_TIME], payload[-_TIME:]
    if sep != b"\0":
        raise TokenError("invalid token", 400)
    issued = datetime.fromtimestamp(int.from_bytes(stamp, "big"), UTC)
    if issued > now + CLOCK_SKEW:
        raise TokenError("invalid token", 400)
    if now - issued > TOKEN_LIFETIME:
        raise TokenError("expired token", 410)
    return TokenClaim(name[:-1].decode("utf-8", "replace"), issued)


async def load_key(engine: AsyncEngine) -> bytes:
    """The token key kept in the store, drawn at random the first time (race-free)."""
    fresh = base64.b64encode(secrets.token_bytes(32)).decode()
    return base64.b64decode(await setting(engine, KEY_SETTING, fresh))
