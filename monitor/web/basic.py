"""HTTP Basic for ``/api/*`` (DESIGN §3.7): a configured user's name and password, checked as
the login form checks them (monitor.web.access: argon2, the same per-name throttle).

A verified pair is remembered for :data:`REMEMBER` so that a script's requests do not each pay
argon2's ~0.1 s: keyed by an HMAC of name and password under a key that lives only in this
process (never the password itself), with the hash line it was verified against, so a changed
password in the configuration is verified afresh. A wrong pair is never remembered."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from monitor.web.access import Access, Verdict

REMEMBER = timedelta(minutes=5)
REMEMBERED = 1_000  # pairs at most (the oldest forgotten first): memory stays bounded
CHALLENGE = 'Basic realm="monitor"'


def credentials(header: str | None) -> tuple[str, str] | None:
    """The (name, password) of an ``Authorization: Basic …`` header; None for anything else."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        text = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, sep, password = text.partition(":")
    return (name, password) if sep else None


class BasicAuth:
    def __init__(self, access: Access, clock: Callable[[], datetime]) -> None:
        self.access, self.clock = access, clock
        self._key = secrets.token_bytes(32)
        self._known: OrderedDict[bytes, tuple[datetime, str]] = OrderedDict()  # -> until, hash

    def _digest(self, name: str, password: str) -> bytes:
        message = name.encode() + b"\0" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    async def check(self, users: Mapping[str, str], name: str, password: str) -> Verdict:
        """As :meth:`Access.check`, without argon2 for a pair verified within :data:`REMEMBER`
        (a paused name stays paused, remembered or not, as on the login form)."""
        if self.access.throttle.blocked(name):
            return Verdict.THROTTLED
        now, digest, hashed = self.clock(), self._digest(name, password), users.get(name)
        known = self._known.get(digest)
        if known is not None and now < known[0] and known[1] == hashed:
            return Verdict.OK
        self._known.pop(digest, None)
        verdict = await self.access.check(users, name, password)
        if verdict is Verdict.OK and hashed is not None:
            self._known[digest] = (now + REMEMBER, hashed)
            while len(self._known) > REMEMBERED:
                self._known.popitem(last=False)
        return verdict
