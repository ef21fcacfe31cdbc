"""What every answer of the analysts' web app carries, and what its requests are checked for:
the headers that forbid anything but the app's own style sheet and pictures (no script, no
frame, no other origin), a posted form read safely, and a ``next`` path that stays on this
site."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.web_request import FileField
from multidict import MultiDict, MultiDictProxy

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def local_path(value: object) -> str:
    """``value`` when it is a path on this site (``/…``), else ``/``: never another origin
    (``//host``, ``/\\host``, ``https://…``), so a login cannot send anyone elsewhere."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in value):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


async def posted_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """The posted form; an empty one when the body cannot be decoded (its CSRF check fails)."""
    try:
        return await request.post()
    except ValueError:
        return MultiDictProxy(MultiDict())
