"""Atom feeds of the alerts (DESIGN §3.7): ``GET /feeds/RULE.atom?key=KEY`` is the last 100
items rule RULE matched, newest first, as Atom 1.0 for a feed reader.

KEY is the base64url HMAC-SHA256 of the rule's name under the feeds' own secret (the store's
``feed_key`` setting, not the unsubscribe key). The secret is read from the store at each
request (one primary-key lookup), so ``monitor feeds rotate-key`` takes effect at once on every
running replica. A wrong or missing key and an unknown rule get the same 404: nothing tells a
prober that a rule exists.

A reader polling every few minutes mostly gets 304: the ETag is a digest of what the feed
shows, so it is checked before any XML is built.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.core.errors import StoreError
from monitor.core.logs import event
from monitor.core.models import DigestItem
from monitor.digest.snippets import clean_line
from monitor.digest.views import Views
from monitor.store.feeds import Alert, read_feed_key, rule_alerts

ATOM = "http://www.w3.org/2005/Atom"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"
# (uuid5 names: an entry's id stays the same whatever URL the feed is read at)
_NAMESPACE = uuid.UUID("3f5d2c1e-8a4b-5c6d-9e0f-1a2b3c4d5e6f")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the updated date of a feed with no entry yet
# Characters XML 1.0 cannot carry at all (clean_line already turned the controls into spaces)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEADERS = {
    # a reader revalidates each time (ETag); no shared cache keeps a URL with a key in it
    "Cache-Control": "private, no-cache",
    "Referrer-Policy": "no-referrer",  # the key is in the URL
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
}

ET.register_namespace("", ATOM)


def feed_token(secret: bytes, rule: str) -> str:
    """The ``key=`` of ``rule``'s feed URL."""
    mac = hmac.new(secret, b"feed\0" + rule.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(mac).rstrip(b"=").decode()


def feed_path(rule: str, secret: bytes) -> str:
    """The path and query of ``rule``'s feed: what goes after ``http.base_url``."""
    return f"/feeds/{quote(rule, safe='')}.atom?key={feed_token(secret, rule)}"


def _genuine(secret: bytes | None, rule: str, given: str) -> bool:
    expected = feed_token(secret or b"", rule).encode()
    return secret is not None and hmac.compare_digest(expected, given.encode("utf-8", "replace"))


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _text(text)
    return element


def entry_id(alert: Alert) -> str:
    """A stable URN from the item's identity (its source and its key there)."""
    item = alert.stored.item
    return _urn(item.source + "\0" + item.key)


def _urn(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


class FeedRoutes:
    """The ``/feeds/`` route of the daemon's server (monitor.web.server)."""

    def __init__(self, engine: AsyncEngine, config: Callable[[], Config]) -> None:
        self.engine, self.config = engine, config
        self.views = Views(ZoneInfo("UTC"))  # the digest's snippets (dates are Atom's own)

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/feeds/{rule}.atom", self.feed)

    def _title(self, config: Config, rule: str) -> str | None:
        """The feed's title; None when no rule of this name is in force."""
        for candidate in config.rules:
            if candidate.name == rule:
                return f"monitor — {clean_line(candidate.label or candidate.name)}"
        return None

    async def feed(self, request: web.Request) -> web.Response:
        rule = request.match_info["rule"]
        try:
            secret = await read_feed_key(self.engine)
            config = self.config()
            title = self._title(config, rule)
            # (the key is checked first, and the same way, for a rule that does not exist)
            if not _genuine(secret, rule, request.query.get("key", "")) or title is None:
                event("feed-refused", rule=clean_line(rule)[:100])
                return web.Response(status=404, text="not found", headers=_HEADERS)
            alerts = await rule_alerts(self.engine, rule)
        except StoreError as exc:
            event("feed-failed", rule=rule, error=str(exc))
            return web.Response(status=503, text="store unreachable", headers=_HEADERS)
        base = config.http.base_url if config.http is not None else None
        assert secret is not None  # (genuine)
        self_link = (
            f"{base}{feed_path(rule, secret)}" if base else str(request.url.with_fragment(None))
        )
        tag = _etag(title, self_link, alerts)
        headers = dict(_HEADERS, ETag=tag)
        newest = alerts[0].stored.seen_at if alerts else None
        if newest is not None:
            headers["Last-Modified"] = format_datetime(newest.astimezone(UTC), usegmt=True)
        if _unchanged(request, tag, newest):
            return web.Response(status=304, headers=headers)
        body = self.atom(rule, title, self_link, alerts)
        headers["Content-Type"] = CONTENT_TYPE
        return web.Response(body=body, headers=headers)

    def atom(self, rule: str, title: str, self_link: str, alerts: Sequence[Alert]) -> bytes:
        """The feed document, UTF-8."""
        feed = ET.Element(f"{{{ATOM}}}feed")
        _child(feed, "id", _urn("feed\0" + rule))
        _child(feed, "title", title)
        _child(feed, "updated", _stamp(alerts[0].stored.seen_at if alerts else _EPOCH))
        _child(feed, "link", rel="self", type="application/atom+xml", href=self_link)
        _child(feed, "generator", "monitor")
        for alert in alerts:
            self._entry(feed, rule, alert)
        return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))

    def _entry(self, feed: ET.Element, rule: str, alert: Alert) -> None:
        item = alert.stored.item
        view = self.views.view(
            DigestItem(
                id=f"it_{alert.stored.id}",
                title=item.title,
                link=item.link,
                source=item.source,
                published=item.published,
                summary=item.summary,
                rules=(rule,),
                terms={rule: alert.terms},
                content=item.content,
            )
        )
        entry = _child(feed, "entry")
        _child(entry, "id", entry_id(alert))
        _child(entry, "title", view.title, type="text")
        if view.href is not None:
            _child(entry, "link", rel="alternate", href=view.href)
        else:  # (an entry with no link must have a content: the link, shown as text)
            _child(entry, "content", view.link, type="text")
        if item.published is not None:
            _child(entry, "published", _stamp(item.published))
        _child(entry, "updated", _stamp(alert.stored.seen_at))
        author = _child(entry, "author")
        _child(author, "name", view.source)
        _child(entry, "summary", view.snippet, type="text")
        for term in view.terms:
            _child(entry, "category", term=term)


def _etag(title: str, self_link: str, alerts: Sequence[Alert]) -> str:
    """A digest of everything the feed shows (a pruned text or a new label changes it)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((title, self_link)).encode("utf-8", "surrogatepass"))
    for alert in alerts:
        digest.update(repr(alert).encode("utf-8", "surrogatepass"))
    return f'"{digest.hexdigest()}"'


def _unchanged(request: web.Request, tag: str, newest: datetime | None) -> bool:
    """Whether the reader's copy is current (RFC 9110 §13.1: If-None-Match, when sent, decides
    alone)."""
    wanted = request.headers.get("If-None-Match")
    if wanted is not None:
        given = {part.strip().removeprefix("W/") for part in wanted.split(",")}
        return tag in given or "*" in given
    since = request.headers.get("If-Modified-Since")
    if since is None or newest is None:
        return False
    try:
        moment = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return newest.replace(microsecond=0) <= moment
