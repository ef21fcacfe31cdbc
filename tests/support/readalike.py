"""The daemon's parse path against feedparser's on one document, for the differential tests of
the fast paths (tests/sources/test_fastrss.py, test_fastatom.py, test_fastrdf.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from monitor.core.models import Item
from monitor.sources.fast import parse_fast
from monitor.sources.feed import parse_with_feedparser, parse_xml_feed
from monitor.sources.normalize import to_items

NOW = datetime(2026, 1, 1, tzinfo=UTC)  # when the documents are read (a ceiling for dates)


def read_alike(
    body: bytes, content_type: str | None, url: str, max_items: int | None = None
) -> tuple[list[Item], list[Item]] | None:
    """The items the daemon's path and feedparser read from the document at ``url`` (their
    totals, hubs and identities compared on the way), or None when the fast paths decline it."""
    if parse_fast(body, content_type, max_items) is None:
        return None
    fast = parse_xml_feed(body, content_type, url, max_items)
    reference = parse_with_feedparser(body, content_type, url, max_items)
    assert fast.total == reference.total
    assert fast.hub == reference.hub
    assert [(e.guid, e.link, e.published) for e in fast.entries] == [
        (e.guid, e.link, e.published) for e in reference.entries
    ]
    return to_items("s", fast.entries, NOW), to_items("s", reference.entries, NOW)


def generated_read_alike(
    feed: Callable[[int], tuple[bytes, str | None]], url: str, count: int
) -> tuple[int, int]:
    """The documents ``feed(0)`` … ``feed(count - 1)`` read alike by both paths (every seventh
    with ``max_items`` 5): how many the fast paths read, and their items."""
    compared, items = 0, 0
    for seed in range(count):
        body, content_type = feed(seed)
        result = read_alike(body, content_type, url, max_items=None if seed % 7 else 5)
        if result is not None:
            fast, reference = result
            assert fast == reference, f"seed {seed}"
            compared, items = compared + 1, items + len(fast)
    return compared, items
