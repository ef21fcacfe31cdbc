"""The fast parse paths' one entry: a document read by the path for its kind (RSS 2.0:
monitor.sources.fastrss, Atom 1.0: fastatom, RSS 1.0: fastrdf, over what monitor.sources.fasttext
shares), or declined (None) and read by feedparser."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from monitor.sources.fastatom import read_atom
from monitor.sources.fastrdf import read_rdf
from monitor.sources.fastrss import read_rss
from monitor.sources.fasttext import ATOM_FEED, ENTRY_TAGS, RDF, Declined, Read, document

# a fast path: the document's root to what it reads, or None (declined)
Reader = Callable[[etree._Element, "int | None"], "Read | None"]


def parse_fast(body: bytes, content_type: str | None, max_items: int | None = None) -> Read | None:
    """The first ``max_items`` entries of an RSS 2.0, Atom 1.0 or RSS 1.0 document read by its fast
    path, as the parts of feedparser's entries that monitor.sources.feed reads, with what else
    it reads of the feed; None when feedparser must read it."""
    root = document(body, content_type)
    if root is None:
        return None
    reader: Reader | None = {"rss": read_rss, ATOM_FEED: read_atom, RDF: read_rdf}.get(root.tag)
    try:
        read = reader(root, max_items) if reader is not None else None
    except (Declined, ValueError):
        return None
    # feedparser takes an item or entry anywhere for one (after the channel, in another
    # element): the document is its when any is where the path did not look
    if read is not None and sum(1 for _ in root.iter(*ENTRY_TAGS)) != read.total:
        return None
    return read
