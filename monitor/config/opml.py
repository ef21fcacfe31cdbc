"""Sources from an OPML file (1.0 or 2.0), as every feed reader exports its subscriptions.

The file is read as a stream (lxml's iterparse, each outline dropped once read): an outline
with an ``xmlUrl`` is a feed (``text``, else ``title``, makes its name:
monitor.config.feed_names); the outlines around it are its folders, whose titles become its
tags, outermost first, with those of an OPML 2.0 ``category`` attribute
(``/news/maroc,/eco``) after them. An outline without ``xmlUrl`` and without outlines inside
is passed over (an empty folder, a link), unless its ``type`` says it is a feed: then its
missing address is an error. An outline whose ``type`` says its address is a web page
(FreshRSS's ``HTML+XPath``) becomes an ``auto`` source: the page's feed is found at its first
poll. ``htmlUrl``, ``description`` and other attributes are ignored.

A DOCTYPE or entity declaration is refused before anything is parsed (an OPML file needs
none, and entities are how an XML file grows a thousandfold); nothing is fetched.
"""

from __future__ import annotations

import bisect
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.config.entries import Loc, Position, Sink
from monitor.config.feed_names import Outline, feeds, tag

if TYPE_CHECKING:
    from lxml import etree

_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
# an outline's start tag, with the comments and CDATA sections that may hold the same text
_START_TAGS = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<outline\b", re.DOTALL)
_NEWLINE = re.compile("\n")
_LOCATION = re.compile(r",? line \d+, column \d+$")  # lxml repeats the position in its message
_FEED_TYPES = ("rss", "atom", "feed")
_OUTLINE: Loc = ("outline",)


@dataclass
class _Open:
    """An outline whose end is not read yet."""

    feed: bool  # it has an xmlUrl
    tag: str | None  # a folder's tag, from its title
    kind: str  # its ``type`` attribute, lowercased
    at: Position
    children: bool = False


class _Places:
    """Where each outline start tag is in the text (lxml gives only the line its start tag
    ends on): found by scanning the text alongside the parser, comments passed over."""

    def __init__(self, text: str, path: str) -> None:
        self.text, self.path = text, path
        self.starts = [0, *(found.end() for found in _NEWLINE.finditer(text))]  # of each line
        self.tags: Iterator[re.Match[str]] | None = (
            found for found in _START_TAGS.finditer(text) if found[0] == "<outline"
        )

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self.starts, offset)
        return (self.path, line, offset - self.starts[line - 1] + 1)

    def next_outline(self, sourceline: int) -> tuple[Position, int | None]:
        """The next outline's position and offset; (its line, column 1) if the scan lost its
        way (an outline the text does not show as one)."""
        found = next(self.tags, None) if self.tags is not None else None
        if found is not None and self.position(found.start())[1] <= sourceline:
            return self.position(found.start()), found.start()
        self.tags = None
        return (self.path, sourceline, 1), None

    def attribute(self, start: int | None, name: str, fallback: Position) -> Position:
        """Where the value of attribute ``name`` of the tag at ``start`` begins."""
        if start is None:
            return fallback
        end = self.text.find(">", start)
        pattern = re.compile(rf"\s{name}\s*=\s*[\"']", re.IGNORECASE)
        found = pattern.search(self.text, start, end if end != -1 else len(self.text))
        return self.position(found.end()) if found else fallback


def _attributes(element: etree._Element) -> dict[str, str]:
    # names as exporters spell them vary (xmlUrl, xmlurl); namespaced ones are not OPML's
    return {str(k).lower(): str(v) for k, v in element.attrib.items() if "}" not in str(k)}


def _line(element: etree._Element) -> int:
    line: object = element.sourceline  # (lxml-stubs leave it untyped)
    return line if isinstance(line, int) and line > 0 else 1


def _folder_tags(value: str) -> list[str]:
    """The tags of an OPML 2.0 ``category`` attribute: comma-separated /-delimited paths."""
    return [tag(part) for path in value.split(",") for part in path.split("/") if tag(part)]


class _Reading:
    def __init__(self, raw: bytes, path: str, sink: Sink) -> None:
        self.raw, self.path, self.sink = raw, path, sink
        self.places = _Places(raw.decode("utf-8", "replace"), path)
        self.open: list[_Open] = []
        self.outlines: list[Outline] = []

    def read(self) -> list[Outline]:
        from lxml import etree  # (only when a configuration has an OPML file)

        declared = _DECLARATION.search(self.raw)
        if declared:
            before = self.raw[: declared.start()].decode("utf-8", "replace")
            self._refuse_declarations(self.places.position(len(before)))
            return []
        events = etree.iterparse(
            io.BytesIO(self.raw),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        try:
            self._walk(events)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            message = _LOCATION.sub("", str(exc.msg or exc))
            self.sink.problem((self.path, line or 1, column or 1), (), f"invalid XML: {message}")
        return self.outlines

    def _refuse_declarations(self, at: Position) -> None:
        message = "a DOCTYPE or entity declaration: refused (an OPML file needs none)"
        self.sink.problem(at, (), message)

    def _walk(self, events: Any) -> None:
        in_body = False
        for event, element in events:
            if element.getparent() is None and event == "start":
                if element.getroottree().docinfo.doctype:  # (one the first scan missed)
                    self._refuse_declarations((self.path, 1, 1))
                    return
                if element.tag != "opml":
                    message = f"not an OPML file: its root is <{element.tag}>, not <opml>"
                    self.sink.problem((self.path, _line(element), 1), (), message)
                    return
            if element.tag == "body" and element.getparent() is not None:
                in_body = event == "start"
            elif element.tag == "outline" and in_body:
                self._start(element) if event == "start" else self._end(element)

    def _start(self, element: etree._Element) -> None:
        at, offset = self.places.next_outline(_line(element))
        if self.open:
            self.open[-1].children = True
        attributes = _attributes(element)
        title = attributes.get("text") or attributes.get("title") or ""
        kind = attributes.get("type", "").lower()
        url = attributes.get("xmlurl")
        if url is None:  # a folder (or nothing, if nothing is inside)
            self.open.append(_Open(False, tag(title) or None, kind, at))
            return
        self.open.append(_Open(True, None, kind, at))
        tags = [o.tag for o in self.open if o.tag is not None]
        tags += _folder_tags(attributes.get("category", ""))
        url_at = self.places.attribute(offset, "xmlUrl", at)
        page = kind.startswith("html")  # FreshRSS's "HTML+XPath": a page it scrapes
        self.outlines.append(
            Outline(url.strip(), title, tuple(dict.fromkeys(tags)), at, url_at, page)
        )

    def _end(self, element: etree._Element) -> None:
        closed = self.open.pop()
        if not closed.feed and not closed.children and closed.kind in _FEED_TYPES:
            message = f'type="{closed.kind}" but no xmlUrl: the feed\'s address is missing'
            self.sink.problem(closed.at, _OUTLINE, message)
        element.clear()  # a stream: what is read goes, with the outlines before it
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]


def opml_entries(
    raw: bytes, path: str, main: Sequence[Any], sink: Sink, most: int | None = None
) -> list[Any]:
    """The raw source entries of an OPML file (its bytes: the XML declares its encoding);
    entry ``i`` is located at ``("sources", len(main) + i)``, after the main file's sources
    ``main``, whose names the file's feeds are named apart from and whose URLs they skip.
    ``most``: how many it may hold; the feed past them is reported, and none after it kept."""
    mains = [s for s in main if isinstance(s, dict)]
    names = {s["name"] for s in mains if isinstance(s.get("name"), str)}
    urls = {s["url"] for s in mains if isinstance(s.get("url"), str)}
    entries = []
    first = len(main)
    for i, feed in enumerate(feeds(_Reading(raw, path, sink).read(), names, urls)):
        if i == most:
            sink.problem(feed.at, (), f"more than {most:,} sources: the rest is not read")
            break
        loc: Loc = ("sources", first + i)
        sink.place(loc, feed.at)
        sink.place((*loc, "name"), feed.at)
        sink.place((*loc, "url"), feed.url_at)
        entry: dict[str, Any] = {"name": feed.name, "url": feed.url}
        if feed.tags:
            entry["tags"] = list(feed.tags)
        if feed.page:
            entry["kind"] = "auto"  # the page's own feed is found at its first poll
        entries.append(entry)
    return entries
