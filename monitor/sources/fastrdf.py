"""A fast path for RSS 1.0 (RDF), under the rule of monitor.sources.fasttext: exactly the entries
feedparser gives, or declined.

feedparser reads RSS 1.0's own namespace as RSS 2.0's bare names (its namespace map gives it no
prefix), so the channel and items are read by RSS 2.0's path (monitor.sources.fastrss) once
their elements in that namespace carry the bare names. What differs: the items are the
document's children, beside the channel, and an item's identity is its ``rdf:about``, taken as
it is written (feedparser saves the attribute, unstripped and unrepaired); it has no ``guid``.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from monitor.sources.fastrss import FIELDS, read_channel, read_item
from monitor.sources.fasttext import RDF, XML_LANG, Declined, Read

_RSS1 = "{http://purl.org/rss/1.0/}"
_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_ABOUT = f"{_RDF}about"
# the document's children beside the channel and the items, whose links feedparser keeps apart
_ASIDE = frozenset(("image", "textinput"))


def _bare(element: etree._Element) -> None:
    """``element`` and what it holds named as RSS 2.0 names them (the RSS 1.0 namespace gone)."""
    for node in element.iter():
        tag = node.tag
        if isinstance(tag, str) and tag.startswith(_RSS1):
            node.tag = tag[len(_RSS1) :]


def _item(item: etree._Element) -> dict[str, Any]:
    about = None
    for name, value in item.attrib.items():
        if name == _ABOUT:
            about = value
        elif name != XML_LANG:
            raise Declined
    for child in item:
        if child.tag == "guid" or (
            child.tag in FIELDS and any(name != XML_LANG for name in child.attrib)
        ):
            raise Declined  # an identity beside rdf:about, or a field's attribute
    entry = read_item(item)
    if about:
        entry["id"] = about
    return entry


def read_rdf(root: etree._Element, max_items: int | None = None) -> Read | None:
    """The first ``max_items`` entries of an RSS 1.0 document (its root), as fastrss reads
    RSS 2.0's; None, or Declined raised, when feedparser must read it."""
    if root.tag != RDF:
        return None
    _bare(root)
    items: list[etree._Element] = []
    channels: list[etree._Element] = []
    for child in root:
        tag = child.tag
        if tag == "item":
            items.append(child)
        elif tag == "channel":
            channels.append(child)
        elif isinstance(tag, str) and tag not in _ASIDE:
            raise Declined  # (feedparser may read it into the feed, or an item's fields)
    if len(channels) != 1 or not items:
        return None
    nested, feed = read_channel(channels[0])
    if nested:
        raise Declined  # items inside the channel too: RSS 2.0 written as RDF
    entries = [_item(item) for item in items[:max_items]]
    return feed._replace(entries=entries, total=len(items))
