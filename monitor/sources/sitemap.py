"""The ``sitemap`` kind: ordinary and Google News sitemaps, and sitemap indexes.

- ``<urlset>``: each ``<url>`` is an entry, its ``<loc>`` the link. A Google News sitemap gives
  the title (``<news:title>``) and date (``<news:publication_date>``); an ordinary one only
  ``<lastmod>``, so the title is made of the words of the URL's last path segment (a slug such
  as ``fin-du-demarchage-telephonique`` matches rules: matching ignores accents). URLs dated
  before ``since`` (the last poll, less a margin) are left out; the rest are kept newest first,
  so ``max_items`` keeps the newest.
- ``<sitemapindex>``: no entries; its ``<sitemap>`` children to follow, one level (the
  pipeline fetches each and parses it with this kind), newest first, those dated before
  ``since`` left out, at most FOLLOW.
- A gzip body (``.xml.gz``) is decompressed, up to the sitemap protocol's 50 MB.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from monitor.core.errors import ParseError
from monitor.core.models import Entry, Fetched
from monitor.net.weblinks import is_web
from monitor.sources.base import Parsed
from monitor.sources.pagedates import parse_page_date

if TYPE_CHECKING:
    from lxml import etree

MAX_SIZE = 50 * 1024 * 1024  # bytes of a decompressed sitemap (the protocol's limit)
FOLLOW = 20  # children of an index fetched in one poll
_SLUG_END = re.compile(r"\.(?:html?|php|aspx?)$|^\d+$")


@dataclass(frozen=True, slots=True)
class SitemapKind:
    since: datetime | None = None  # URLs dated before this are old news
    name: str = "sitemap"
    follows: bool = True  # an index names sitemaps to read

    def parse(self, fetched: Fetched, max_items: int | None = None) -> Parsed:
        root = _root(_decompressed(fetched.body))
        if _local(root) == "sitemapindex":
            return Parsed([], 0, follow=self._children(root))
        if _local(root) != "urlset":
            raise ParseError(f"not a sitemap: the document is <{_local(root)}>")
        entries = [e for e in map(_entry, _each(root, "url")) if e and self._recent(e.published)]
        entries.sort(key=lambda e: e.published.timestamp() if e.published else 0, reverse=True)
        return Parsed(entries[:max_items] if max_items is not None else entries, len(entries))

    def _recent(self, when: datetime | None) -> bool:
        return when is None or self.since is None or when >= self.since

    def _children(self, root: etree._Element) -> tuple[str, ...]:
        dated = []
        for child in _each(root, "sitemap"):
            loc, lastmod = _child_text(child, "loc"), _child_text(child, "lastmod")
            when = parse_page_date(lastmod) if lastmod else None
            if loc and is_web(loc) and self._recent(when):
                dated.append((when.timestamp() if when else float("inf"), loc))
        dated.sort(key=lambda pair: pair[0], reverse=True)  # undated ones first: may be new
        return tuple(loc for _when, loc in dated[:FOLLOW])


def _decompressed(body: bytes) -> bytes:
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, MAX_SIZE)
    except zlib.error as exc:
        raise ParseError(f"a gzip sitemap that cannot be decompressed ({exc})") from None
    if inflater.unconsumed_tail:
        raise ParseError(f"a gzip sitemap larger than {MAX_SIZE // 2**20} MB decompressed")
    return data


def _root(body: bytes) -> etree._Element:
    from lxml import etree  # (in the parse workers: not in the daemon's memory)

    from monitor.sources.fasttext import DECLARATIONS, SAFE_PARSER

    if DECLARATIONS.search(body):
        raise ParseError("not a sitemap: a sitemap declares no DOCTYPE or entities")
    try:
        return etree.fromstring(body, SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not a sitemap: {exc}") from None


def _local(element: etree._Element) -> str:
    """An element's name without its namespace: sites write the sitemap namespace in more
    ways than one (https://, a missing or extra slash), or none."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _each(parent: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in parent if _local(e) == name]


def _child_text(element: etree._Element, name: str) -> str:
    for found in _each(element, name):
        if found.text and found.text.strip():
            return " ".join(found.text.split())
    return ""


def _entry(url: etree._Element) -> Entry | None:
    loc = _child_text(url, "loc")
    if not loc or not is_web(loc):
        return None
    news = next(iter(_each(url, "news")), None)  # Google News' <news:news>
    title = _child_text(news, "title") if news is not None else ""
    published = _child_text(news, "publication_date") if news is not None else ""
    date = published or _child_text(url, "lastmod")
    return Entry(
        guid=None,
        link=loc,
        title=title or slug_title(loc),
        summary="",
        content="",
        published=parse_page_date(date) if date else None,
    )


def slug_title(url: str) -> str:
    """The words of a URL's last meaningful path segment: ``/eco/fin-du-demarchage-123.html``
    gives ``fin du demarchage``; an empty string when there are none."""
    for segment in reversed([s for s in urlsplit(url).path.split("/") if s]):
        words = [w for w in re.split(r"[-_+\s]+", _SLUG_END.sub("", unquote(segment))) if w]
        while words and words[-1].isdigit():  # a trailing article number
            words.pop()
        if words and any(not w.isdigit() for w in words):
            return " ".join(words)
    return ""
