"""The ``google_news`` kind: a Google News search, read as the RSS feed Google builds for it.

Google's items link to Google (``news.google.com/rss/articles/<id>``). Where the id holds the
publisher's link (the older ids: a base64 protobuf whose first field is the URL), that link
becomes the item's link and its identity, so the same article from the outlet's own feed is
not alerted twice (one article reaches a subscriber once, by link). A link that answers with a
plain redirect to the publisher is turned into it by the pipeline (monitor.poll.redirects). The
newer ids hold only a token that Google alone can turn into a link: such items keep their Google
link, and the story clustering of digests groups them with the outlet's copy ("Title - Outlet"
titles included).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from monitor.core.models import Entry, Fetched
from monitor.net.weblinks import is_web
from monitor.sources.base import Parsed
from monitor.sources.feed import FeedKind

_ARTICLE = re.compile(r"^/(?:rss/)?(?:articles|read)/([A-Za-z0-9_-]+)")
_PREFIX = b"\x08\x13\x22"  # field 1 = 19, then field 4: a length-prefixed string (the URL)


def publisher_link(link: str) -> str | None:
    """The publisher's link held in a Google News article link; None when it holds none."""
    parts = urlsplit(link)
    found = _ARTICLE.match(parts.path) if parts.hostname == "news.google.com" else None
    if found is None:
        return None
    token = found[1]
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if not data.startswith(_PREFIX):
        return None
    size, at = _varint(data, len(_PREFIX))
    raw = data[at : at + size]
    try:
        url = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(raw) != size or not is_web(url) or " " in url:
        return None  # a token (newer ids), not a URL
    return url


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """A protobuf varint at ``at``: its value and the offset after it."""
    value, shift = 0, 0
    while at < len(data) and shift < 35:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            break
    return value, at


@dataclass(frozen=True, slots=True)
class GoogleNewsKind:
    name: str = "google_news"
    follows: bool = False

    def parse(self, fetched: Fetched, max_items: int | None = None) -> Parsed:
        parsed = FeedKind().parse(fetched, max_items)
        return Parsed([_publisher(entry) for entry in parsed.entries], parsed.total)


def _publisher(entry: Entry) -> Entry:
    """The entry with the publisher's link as its link and identity, where it can be read."""
    link = publisher_link(entry.link) if entry.link else None
    return entry if link is None else replace(entry, guid=None, link=link)
