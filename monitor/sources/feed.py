"""The ``feed`` kind: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed by sniffing.

feedparser is handed bytes that are already safe for it:
- a stream, never a bare string or bytes (those may be taken for a URL or a file name);
- no entity declarations: when expat gives up on a document, feedparser's loose parser
  expands every "safe" entity of the DOCTYPE internal subset, and one large entity referenced
  thousands of times turns a 156 KB feed into gigabytes. The internal subset is removed,
  after the body is converted to UTF-8 the way feedparser itself does, so UTF-16 or EBCDIC
  cannot hide a declaration from the check.
"""

from __future__ import annotations

import calendar
import codecs
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.encodings import convert_to_utf8

from monitor.core.errors import ParseError
from monitor.core.models import Entry, Fetched, HubLink
from monitor.net.hubs import hub_link
from monitor.net.weblinks import is_web
from monitor.sources import dates  # noqa: F401  (registers French date forms with feedparser)
from monitor.sources.base import Parsed
from monitor.sources.jsonfeed import parse_json_feed

_JSON_TYPES = ("application/json", "application/feed+json", "text/json")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY[^>]*>?", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<\w")
# What the internal-subset scan stops at: literals, comments, and "]" (with its ">" if any).
_SUBSET_TOKEN = re.compile(rb"[\"']|<!--|\](?P<close>\s*>)?")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _first_char(body: bytes) -> str:
    """The first non-blank character of the body, reading any byte-order mark."""
    head, encoding = body[:256], "utf-8"
    for bom, name in _BOMS:
        if head.startswith(bom):
            head, encoding = head[len(bom) :], name
            break
    text = head.decode(encoding, "ignore").lstrip()
    return text[:1]


def is_json(body: bytes, content_type: str | None) -> bool:
    """JSON Feed when the body opens with ``{``, or when it is not markup and is typed JSON."""
    first = _first_char(body)
    if first == "{":
        return True
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return first != "<" and (media in _JSON_TYPES or media.endswith("+json"))


def _subset_end(data: bytes, start: int) -> int:
    """Index just past the ``]>`` that closes the internal subset opened at ``data[start]``,
    skipping quoted literals and comments; -1 when it never closes."""
    i = start + 1
    while (found := _SUBSET_TOKEN.search(data, i)) is not None:
        token = found.group()
        if token.startswith(b"]"):
            if found.group("close"):
                return found.end()
            i = found.end()
            continue
        closer = b"-->" if token == b"<!--" else token
        close = data.find(closer, found.end())
        if close < 0:
            return -1
        i = close + len(closer)
    return -1


def strip_internal_subset(data: bytes) -> bytes:
    """``data`` with its DOCTYPE internal subset and every entity declaration before the root
    element removed; ParseError when the DOCTYPE never closes or declarations hide others."""
    found = _DOCTYPE.search(data)
    root = _FIRST_ELEMENT.search(data)
    if found is not None and (root is None or found.start() < root.start()):
        close = data.find(b">", found.end())
        bracket = data.find(b"[", found.end())
        if 0 <= bracket < close or (close < 0 <= bracket):
            end = _subset_end(data, bracket)
            if end < 0:
                raise ParseError("the DOCTYPE declaration never closes")
            data = data[:bracket] + b">" + data[end:]
    root = _FIRST_ELEMENT.search(data)
    cut = root.start() if root is not None else len(data)
    # Stray declarations outside the DOCTYPE, which feedparser would still collect: removed
    # once; any that removal pieces together are refused rather than looped over.
    head = _ENTITY.sub(b"", data[:cut])
    if _ENTITY.search(head):
        raise ParseError("the feed declares XML entities; refused")
    return head + data[cut:]


def _safe_bytes(body: bytes, content_type: str | None) -> tuple[bytes, dict[str, str]]:
    """The body as feedparser will see it (UTF-8 when its encoding is known), made safe, and
    the response headers to pass along with it."""
    headers = {"content-type": content_type} if content_type else {}
    scratch: dict[str, Any] = {}
    converted = convert_to_utf8(headers, body, scratch)
    if isinstance(converted, bytes) and scratch.get("encoding"):
        return strip_internal_subset(converted), {"content-type": "application/xml; charset=utf-8"}
    return strip_internal_subset(body), headers


def utc_datetime(parsed: Any) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _link(entry: Any, guid: str | None, base: str) -> str | None:
    link = entry.get("link") or None
    if not isinstance(link, str):
        return None
    if entry.get("guidislink") and link == guid:
        # Copied from a <guid> without isPermaLink="false": a link only if it is a web URL.
        return link if is_web(link) else None
    if not is_web(link) and is_web(base):
        link = urljoin(base, link)
    return link


def _entry(entry: Any, base: str) -> Entry:
    guid = entry.get("id") or None
    guid = guid.strip() or None if isinstance(guid, str) else None
    summary = entry.get("summary") or ""
    contents = entry.get("content") or []
    content = (contents[0].get("value") or "") if contents else ""
    return Entry(
        guid=guid,
        link=_link(entry, guid, base),
        title=entry.get("title") or "",
        summary=summary,
        content="" if content == summary else content,
        published=utc_datetime(entry.get("published_parsed") or entry.get("updated_parsed")),
    )


def _hub(links: Iterable[tuple[str, str]], url: str) -> HubLink | None:
    """The WebSub hub among a feed's links, (rel, href) as feedparser's feed.links has them
    (a rel may name several relations)."""
    rels = [(rel.lower().split(), href) for rel, href in links]
    hubs = [href for names, href in rels if "hub" in names]
    return hub_link(hubs, [href for names, href in rels if "self" in names], url)


def _feedparser_links(feed: Any) -> list[tuple[str, str]]:
    """feedparser's feed.links as (rel, href)."""
    links = feed.get("links") or []
    return [(str(link.get("rel") or ""), str(link.get("href") or "")) for link in links]


def parse_xml_feed(
    body: bytes, content_type: str | None, url: str = "", max_items: int | None = None
) -> Parsed:
    """The first ``max_items`` entries of an RSS or Atom document; ParseError when it is not
    a feed (HTML, garbage, or a document with no feed version and no entries)."""
    if not body.strip():
        raise ParseError("empty body")
    # (imported here: lxml is for the parse workers, not the daemon's memory)
    from monitor.sources.fast import parse_fast

    fast = parse_fast(body, content_type, max_items)
    # relative links resolve against the feed's URL, else (a local file) its own <link>
    base = url if is_web(url) or fast is None else fast.site
    if fast is not None and base is not None:
        # the common case, read as feedparser would (monitor.sources.fasttext), whatever the
        # document's address: the daemon, test-rule on a file and check --resolve alike
        entries = [_entry(e, base) for e in fast.entries]
        return Parsed(entries, fast.total, hub=_hub(fast.links, url))
    return parse_with_feedparser(body, content_type, url, max_items)


def parse_with_feedparser(
    body: bytes, content_type: str | None, url: str = "", max_items: int | None = None
) -> Parsed:
    """:func:`parse_xml_feed` by feedparser alone (the differential test's reference)."""
    data, headers = _safe_bytes(body, content_type)
    with _feedparser_failures():
        result = feedparser.parse(io.BytesIO(data), response_headers=headers)
    return read_feedparser_result(result, url, max_items)


@contextmanager
def _feedparser_failures() -> Iterator[None]:
    """An exception out of feedparser (it promises none) as a ParseError: it costs the poll,
    not the daemon; MemoryError passes (the worker reports it as the memory cap)."""
    try:
        yield
    except (MemoryError, ParseError):
        raise
    except Exception as exc:
        raise ParseError(f"feed parser failed: {type(exc).__name__}") from exc


def read_feedparser_result(result: Any, url: str = "", max_items: int | None = None) -> Parsed:
    """The first ``max_items`` entries of what ``feedparser.parse`` returned for the document
    at ``url``; ParseError when it is not a feed (bench/differential.py hands it feedparser's
    result for the unaltered document)."""
    with _feedparser_failures():
        found = result.entries
        # relative links resolve against the feed's URL, else (a local file) its own <link>
        base = url if is_web(url) else str(result.feed.get("link") or "")
        entries = [_entry(e, base) for e in found[:max_items]]
        hub = _hub(_feedparser_links(result.feed), url)
    if not found and (not result.get("version") or result.get("bozo")):
        problem = result.get("bozo_exception")
        detail = f": {str(problem)[:120]}" if problem else ""
        raise ParseError(f"not an RSS, Atom or JSON feed{detail}")
    return Parsed(entries, len(found), hub=hub)


class FeedKind:
    """RSS 0.9x/1.0/2.0, Atom, JSON Feed 1.0/1.1: the format is read from the body."""

    name = "feed"
    follows = False

    def parse(self, fetched: Fetched, max_items: int | None = None) -> Parsed:
        if is_json(fetched.body, fetched.content_type):
            return parse_json_feed(fetched.body, max_items, fetched.url)
        return parse_xml_feed(fetched.body, fetched.content_type, fetched.url, max_items)
