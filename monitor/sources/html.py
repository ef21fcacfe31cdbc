"""The ``html`` kind: news listing pages read with CSS selectors (lxml, cssselect).

A page has no schema: the source's selectors say where each item is, and where its title, link,
date and summary are inside it. Links are resolved against the page (its ``<base href>``
first); items are keyed by their canonical link (normalize), as entries without a GUID are.
A page on which the item selector finds nothing, or none of whose items has a title and a
link, has changed its layout: a ParseError ("the page changed"), so the source shows as
failing, not as bringing no news.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from monitor.core.errors import ParseError
from monitor.core.models import Entry, Fetched
from monitor.net.weblinks import is_web
from monitor.sources.base import Parsed
from monitor.sources.pagedates import parse_page_date

if TYPE_CHECKING:  # lxml is imported where a page is parsed: in the parse workers
    from lxml import etree

    Select = Callable[[etree._Element], list[etree._Element]]
_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.IGNORECASE)


@cache
def _compiled(css: str) -> Select:
    """A selector as an XPath expression, compiled once per worker process."""
    from cssselect import GenericTranslator
    from lxml import etree

    xpath = etree.XPath(GenericTranslator().css_to_xpath(css))

    def select(element: etree._Element) -> list[etree._Element]:
        found = xpath(element)
        return (
            [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []
        )

    return select


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(t for t in element.itertext() if isinstance(t, str)).split())


def _first(css: str | None, within: etree._Element) -> etree._Element | None:
    if css is None:
        return None
    found = _compiled(css)(within)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class HtmlKind:
    """The selectors of one source (its config's, without pydantic: this runs in the worker)."""

    item: str
    title: str
    link: str | None = None
    link_attribute: str = "href"
    date: str | None = None
    date_format: str | None = None
    summary: str | None = None
    name: str = "html"
    follows: bool = False

    def parse(self, fetched: Fetched, max_items: int | None = None) -> Parsed:
        page = document(fetched)
        base = base_url(page, fetched.url)
        found = _compiled(self.item)(page)
        if not found:
            raise ParseError(f"the page changed: item selector {self.item!r} matches nothing")
        by_link: dict[str, Entry] = {}  # a page often shows an article twice (a headline, a list)
        for element in found:
            entry = self._entry(element, base)
            if entry is not None and entry.link is not None:
                by_link.setdefault(entry.link, entry)
        entries = list(by_link.values())
        if not entries:
            raise ParseError(
                f"the page changed: none of the {len(found)} items matched by {self.item!r} has "
                f"a title ({self.title!r}) and a link ({self.link or 'the first a'!r})"
            )
        return Parsed(entries[:max_items] if max_items is not None else entries, len(entries))

    def _entry(self, element: etree._Element, base: str) -> Entry | None:
        heading = _first(self.title, element)
        title = _text(heading)
        link = self._link(element, heading, base)
        if not title or link is None:
            return None  # an advertisement or a separator among the items, most likely
        return Entry(
            guid=None,
            link=link,
            title=title,
            summary=_text(_first(self.summary, element)),
            content="",
            published=self._published(_first(self.date, element)),
        )

    def _link(
        self, element: etree._Element, heading: etree._Element | None, base: str
    ) -> str | None:
        if self.link is not None:
            anchor = _first(self.link, element)
        elif heading is not None and heading.get(self.link_attribute):
            anchor = heading
        else:
            anchor = _first(f"a[{self.link_attribute}]", element)
        value = (anchor.get(self.link_attribute) or "").strip() if anchor is not None else ""
        if not value:
            return None
        url = urljoin(base, value)
        return url if is_web(url) else None  # not javascript:

    def _published(self, element: etree._Element | None) -> datetime | None:
        if element is None:
            return None
        value = (element.get("datetime") or "").strip() or _text(element)
        return parse_page_date(value, self.date_format) if value else None


def document(fetched: Fetched) -> etree._Element:
    """The page's tree, in the encoding :func:`_encoding` finds."""
    import lxml.html
    from lxml import etree

    charset = _encoding(fetched)
    try:
        parser = lxml.html.HTMLParser(encoding=charset) if charset else lxml.html.html_parser
        return lxml.html.document_fromstring(fetched.body, parser=parser)
    except (etree.ParserError, ValueError, LookupError) as exc:
        raise ParseError(f"not an HTML page: {exc}") from None


def _encoding(fetched: Fetched) -> str | None:
    """The Content-Type header's charset; else None where the page declares its own
    (``<meta charset>``, which lxml reads); else UTF-8 if the bytes are UTF-8 (most pages
    today), else Windows-1252 (what browsers assume of older Western pages)."""
    declared = _charset(fetched.content_type)
    if declared or _META_CHARSET.search(fetched.body[:4096]):
        return declared
    try:
        fetched.body.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def base_url(page: etree._Element, url: str) -> str:
    """What the page's relative links are relative to: its ``<base href>``, else ``url``."""
    for base in page.iter("base"):
        href = (base.get("href") or "").strip()
        if href:
            return urljoin(url, href)
    return url
