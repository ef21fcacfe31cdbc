"""The web app's signed session cookie and the CSRF tokens of its forms.

A session is ``base64url(name NUL issued NUL nonce) . HMAC`` where the MAC also covers the
user's password hash: changing a password ends that user's sessions. It lasts
``http.app.session`` from the login. Keys are derived, one per purpose, from a secret drawn
once and kept in the store (``web_key``), so sessions survive restarts and any replica
accepts them. A form's CSRF token is an HMAC of the session (or, on the login form, of a
random cookie set with it), so a token taken from another session is refused."""

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

KEY_SETTING = "web_key"  # not the unsubscribe key: each secret serves one purpose
COOKIE = "monitor_session"
LOGIN_COOKIE = "monitor_login"  # ties the login form's CSRF token to one browser
CLOCK_SKEW = timedelta(minutes=5)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def load_web_key(engine: AsyncEngine) -> bytes:
    """The web app's secret kept in the store, drawn at random the first time (race-free)."""
    fresh = base64.b64encode(secrets.token_bytes(32)).decode()
    return base64.b64decode(await setting(engine, KEY_SETTING, fresh))


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    issued: datetime
    nonce: str
    cookie: str  # the cookie's value, as the CSRF token is made from it


class Sessions:
    def __init__(self, key: bytes) -> None:
        self._session_key = hmac.new(key, b"session", hashlib.sha256).digest()
        self._csrf_key = hmac.new(key, b"csrf", hashlib.sha256).digest()

    def _mac(self, payload: bytes, password_hash: str) -> bytes:
        return hmac.new(
            self._session_key, payload + b"\0" + password_hash.encode(), hashlib.sha256
        ).digest()

    def make(self, user: str, password_hash: str, now: datetime) -> str:
        payload = b"\0".join(
            [user.encode(), str(int(now.timestamp())).encode(), secrets.token_hex(8).encode()]
        )
        return f"{_b64(payload)}.{_b64(self._mac(payload, password_hash))}"

    def check(
        self, cookie: str, hashes: dict[str, str], now: datetime, lifetime: timedelta
    ) -> Session | None:
        """The session ``cookie`` carries when genuine, unexpired and its user still configured
        with the same password hash; None otherwise."""
        payload_text, _, mac_text = cookie.partition(".")
        try:
            payload, mac = _unb64(payload_text), _unb64(mac_text)
            user_raw, stamp, nonce = payload.split(b"\0")
            user = user_raw.decode()
            issued = datetime.fromtimestamp(int(stamp), UTC)
        except (binascii.Error, ValueError, UnicodeDecodeError, OverflowError):
            return None
        hashed = hashes.get(user)
        if hashed is None or not hmac.compare_digest(mac, self._mac(payload, hashed)):
            return None
        if issued > now + CLOCK_SKEW or now - issued >= lifetime:
            return None
        return Session(user, issued, nonce.decode(), cookie)

    def csrf(self, bound_to: str) -> str:
        """The CSRF token of forms shown with ``bound_to`` (a session or login cookie)."""
        return _b64(hmac.new(self._csrf_key, bound_to.encode(), hashlib.sha256).digest())

    def csrf_ok(self, bound_to: str | None, token: object) -> bool:
        if not bound_to or not isinstance(token, str):
            return False
        return hmac.compare_digest(self.csrf(bound_to).encode(), token.encode())
