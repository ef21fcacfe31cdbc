"""The ``auto`` kind: a site's home page, whose feed is found for it.

A document that is a feed is read as one (``feed``). A web page is not: its feeds are those it
announces (``<link rel="alternate">`` of an RSS, Atom or JSON Feed type), then the addresses
sites commonly serve theirs at, in that order; the pipeline tries each and moves the source to
the first that is a feed (monitor.poll.pipeline), which later polls then read directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from monitor.core.errors import ParseError
from monitor.core.models import Fetched
from monitor.net.weblinks import is_web
from monitor.sources.base import Parsed
from monitor.sources.feed import FeedKind
from monitor.sources.html import base_url, document

FEED_TYPES = frozenset(
    ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json")
)
# where sites commonly serve a feed they do not announce (WordPress, Blogger, Hugo, Ghost…)
COMMON_PATHS = (
    "/feed/",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/posts/default",
)
_HTML = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)


def is_web_page(fetched: Fetched) -> bool:
    """Whether the body opens as an HTML page (many feeds are served as text/html: the header
    is not asked)."""
    return bool(_HTML.match(fetched.body[:4096].lstrip(b"\xef\xbb\xbf")))


def announced_feeds(fetched: Fetched) -> list[str]:
    """The feeds a page links to with ``<link rel="alternate" type=…>``, absolute, in order."""
    try:
        page = document(fetched)
    except ParseError:
        return []
    base = base_url(page, fetched.url)
    found: list[str] = []
    for link in page.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            url = urljoin(base, href)
            if is_web(url) and url not in found:
                found.append(url)
    return found


def candidates(fetched: Fetched) -> tuple[str, ...]:
    """The addresses to try, announced ones first, then the common paths of the page's site."""
    site = urlsplit(fetched.url)
    common = [f"{site.scheme}://{site.netloc}{path}" for path in COMMON_PATHS]
    announced = announced_feeds(fetched)
    return tuple(announced + [url for url in common if url not in announced])


@dataclass(frozen=True, slots=True)
class AutoKind:
    name: str = "auto"
    follows: bool = False

    def parse(self, fetched: Fetched, max_items: int | None = None) -> Parsed:
        if is_web_page(fetched):
            return Parsed([], 0, feeds=candidates(fetched))
        return FeedKind().parse(fetched, max_items)
