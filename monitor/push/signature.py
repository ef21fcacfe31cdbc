"""The ``X-Hub-Signature`` of a delivery: ``METHOD=HEX``, the HMAC of the body keyed by the
subscription's ``hub.secret`` (WebSub §8). A delivery without a valid one is ignored."""

from __future__ import annotations

import hmac

METHODS = frozenset({"sha1", "sha256", "sha384", "sha512"})  # those WebSub names


def signed(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is a valid signature of ``body`` with ``secret``."""
    if not header:
        return False
    method, _, given = header.partition("=")
    method = method.strip().lower()
    if method not in METHODS:
        return False
    expected = hmac.new(secret.encode(), body, method).hexdigest().encode()
    return hmac.compare_digest(expected, given.strip().lower().encode())
