"""A fast path for Atom 1.0, read with lxml under the same rule as monitor.sources.fastrss: it
gives exactly the entry fields feedparser gives (tests/sources/test_fastatom.py compares both on
generated documents, bench/differential.py on feedparser's own test documents), or declines
the document and feedparser reads it.

What feedparser does with an Atom entry, and this path with it (anything else is declined):
- ``<link href=…>``: each with rel ``alternate`` (the default) and an HTML type (the default,
  ``text/html`` or ``application/xhtml+xml``) sets the link, the last one winning; its href is
  joined to an empty base, as feedparser's own;
- ``<id>`` is the guid; an entry with no such link before its id takes the id for its link
  (``guidislink``), which a later alternate link replaces;
- ``<published>`` and ``<updated>`` by feedparser's own date parser;
- ``<summary>`` and ``<content>`` of type text or html (feedparser sanitizes html: only markup
  whose text comes out the same is read, see fasttext.markup); a content stands for a missing
  summary. A summary after a content is declined (feedparser then files it as content).
- ``<title>`` of type text, or html holding no markup nor entity;
- ``<author>``, ``<contributor>`` (name, uri, email) and ``<category>`` read into nothing the
  monitor uses.
"""

from __future__ import annotations

from typing import Any

from feedparser.urls import _urljoin
from lxml import etree

from monitor.sources.fasttext import (
    ATOM_FEED,
    LINK_ATTRIBUTES,
    XML_LANG,
    Declined,
    Read,
    markup,
    named_link,
    parsed_date,
    repaired,
)

_ATOM = "{http://www.w3.org/2005/Atom}"
_ENTRY, _LINK = f"{_ATOM}entry", f"{_ATOM}link"
_PEOPLE = {f"{_ATOM}author", f"{_ATOM}contributor"}
_PERSON = {f"{_ATOM}{name}" for name in ("name", "uri", "email")}
_CATEGORY = f"{_ATOM}category"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# feedparser's short names of media types (its map_content_type), after lower-casing
_MEDIA = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
          "xhtml": "application/xhtml+xml"}  # fmt: skip
# the text constructs this path reads, by their media type
_CONSTRUCTS = {"text/plain": "text", "text/html": "html"}


def _media(value: str) -> str:
    """A type attribute as feedparser reads it: lower-cased, a short name mapped."""
    value = value.lower()
    return _MEDIA.get(value, value)


def _type(element: etree._Element) -> str:
    """A text construct's kind, text or html."""
    found = _CONSTRUCTS.get(_media(element.get("type", "text")))
    if found is None or any(name != "type" for name in element.attrib):
        raise Declined  # xhtml, another media type, or an attribute such as src
    return found


def _leaf(element: etree._Element) -> str:
    """An element's text, stripped (repairs come after: feedparser strips first)."""
    if len(element):
        raise Declined
    return (element.text or "").strip()


def _link(element: etree._Element) -> tuple[str, str, str]:
    """(rel, type, href) as feedparser reads a link; declined without href."""
    attributes = element.attrib
    if "href" not in attributes or not LINK_ATTRIBUTES.issuperset(attributes.keys()):
        raise Declined
    if len(element) or (element.text or "").strip():
        raise Declined
    # as feedparser: rel and type lower-cased, a type's short names mapped ("html": text/html)
    rel = attributes.get("rel", "alternate").lower()
    kind = _media(attributes.get("type", "application/atom+xml" if rel == "self" else "text/html"))
    # (an attribute is neither stripped nor repaired by feedparser, only joined)
    return rel, kind, _urljoin("", attributes["href"])


def _person(element: etree._Element) -> None:
    """An author or contributor: name, uri and email only, as leaves."""
    if element.attrib:
        raise Declined
    for child in element:
        if child.tag not in _PERSON or len(child) or child.attrib:
            raise Declined


def _title(child: etree._Element, found: dict[str, Any]) -> None:
    title = _leaf(child)
    found["title"] = markup(title) if _type(child) == "html" else repaired(title)


def _id(child: etree._Element, found: dict[str, Any]) -> None:
    if child.attrib:
        raise Declined
    guid = repaired(_urljoin("", _leaf(child)))
    found["id"] = guid
    found["guidislink"] = "link" not in found  # (an alternate link after it wins)
    found.setdefault("link", guid)


def _date(child: etree._Element, found: dict[str, Any]) -> None:
    if child.attrib:
        raise Declined
    found[f"{child.tag[len(_ATOM) :]}_parsed"] = parsed_date(repaired(_leaf(child)))


def _body(child: etree._Element) -> str:
    value = _leaf(child)
    return markup(value) if _type(child) == "html" else repaired(value)


def _summary(child: etree._Element, found: dict[str, Any]) -> None:
    if "content" in found:
        raise Declined  # feedparser files a summary after a content its own way
    found["summary"] = _body(child)


def _content(child: etree._Element, found: dict[str, Any]) -> None:
    value = _body(child)
    found["content"] = [{"value": value}]
    found.setdefault("summary", value)  # as feedparser: it stands for a missing summary


# the entry's fields, each read once, by tag
_FIELDS = {
    f"{_ATOM}title": _title,
    f"{_ATOM}id": _id,
    f"{_ATOM}published": _date,
    f"{_ATOM}updated": _date,
    f"{_ATOM}summary": _summary,
    f"{_ATOM}content": _content,
}


def _entry(entry: etree._Element) -> dict[str, Any]:
    """The entry as feedparser's would have the keys monitor.sources.feed reads."""
    found: dict[str, Any] = {}
    seen: set[str] = set()
    for child in entry:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # a processing instruction
        if tag == _LINK:
            rel, kind, href = _link(child)
            if rel == "alternate" and kind in _HTML_TYPES:
                found["link"] = href  # (the last one wins)
        elif tag in _PEOPLE:
            _person(child)
        elif tag == _CATEGORY:
            if len(child) or (child.text or "").strip():
                raise Declined
        elif tag in seen or tag not in _FIELDS:
            raise Declined  # a field given twice, or an element this path does not read
        else:
            seen.add(tag)
            _FIELDS[tag](child, found)
    return found


def _feed(root: etree._Element) -> tuple[list[etree._Element], Read]:
    """The feed's entries; its links as feedparser's feed.links has them (rel, href) and its
    own link as feedparser's feed.link (an alternate link, else its id, as for an entry)."""
    entries: list[etree._Element] = []
    links: list[tuple[str, str]] = []
    site: str | None = None
    for child in root:
        tag = child.tag
        if tag == _ENTRY:
            entries.append(child)
        elif tag == _LINK:
            rel, kind, href = _link(child)
            links.append((rel, href))
            if rel == "alternate" and kind in _HTML_TYPES:
                site = href
        elif tag == f"{_ATOM}id":
            if site is None:
                site = repaired(_urljoin("", _leaf(child)))
        elif isinstance(tag, str) and any(named_link(node.tag) for node in child.iter()):
            raise Declined  # a link feedparser may take for the feed's (in a source, say)
    return entries, Read([], 0, links, site or "")


def read_atom(root: etree._Element, max_items: int | None = None) -> Read | None:
    """The first ``max_items`` entries of an Atom 1.0 document (its root) as the parts of
    feedparser's entries that monitor.sources.feed reads, and what else it reads of the feed
    (fasttext.Read); None, or Declined raised, when feedparser must read it."""
    if root.tag != ATOM_FEED or any(name != XML_LANG for name in root.attrib):
        return None
    entries, feed = _feed(root)
    if not entries:
        return None
    return feed._replace(entries=[_entry(e) for e in entries[:max_items]], total=len(entries))
