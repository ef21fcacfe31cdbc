"""The registry of source kinds (the one place a kind registers) and the ways to parse."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.config.sources import HtmlSourceConfig, SourceConfig
from monitor.core.errors import FetchError
from monitor.core.models import Entry, Fetched
from monitor.sources.base import Parsed, SourceKind
from monitor.sources.feed import FeedKind
from monitor.sources.parser import Parser

__all__ = [
    "FEED",
    "SOURCE_KINDS",
    "Parsed",
    "Parser",
    "SourceKind",
    "kind_of",
    "parse_file",
    "parse_off_loop",
]

FEED = FeedKind()


# A sitemap URL dated this long before the source was last read is still read: a page is often
# listed (or its sitemap fetched) a while after the date it carries; what was seen is not new.
SITEMAP_MARGIN = timedelta(days=1)


def _html(source: HtmlSourceConfig, _read_until: datetime | None) -> SourceKind:
    from monitor.sources.html import HtmlKind  # (its lxml only where pages are parsed)

    return HtmlKind(
        source.item,
        source.title,
        source.link,
        source.link_attribute,
        source.date,
        source.date_format,
        source.summary,
    )


def _sitemap(_source: object, read_until: datetime | None) -> SourceKind:
    from monitor.sources.sitemap import SitemapKind

    return SitemapKind(read_until - SITEMAP_MARGIN if read_until else None)


def _google_news(_source: object, _read_until: datetime | None) -> SourceKind:
    from monitor.sources.googlenews import GoogleNewsKind

    return GoogleNewsKind()


def _auto(_source: object, _read_until: datetime | None) -> SourceKind:
    from monitor.sources.discovery import AutoKind

    return AutoKind()


# A source's kind from its config and when it was last read whole (monitor.poll.pipeline): what the
# parse worker is handed with each document (a source's ``kind:`` names its entry).
SOURCE_KINDS: dict[str, Callable[[Any, datetime | None], SourceKind]] = {
    "feed": lambda _source, _read_until: FEED,
    "html": _html,
    "sitemap": _sitemap,
    "google_news": _google_news,
    "auto": _auto,
}


def kind_of(source: SourceConfig, read_until: datetime | None = None) -> SourceKind:
    return SOURCE_KINDS[source.kind](source, read_until)


async def parse_off_loop(kind: SourceKind, fetched: Fetched) -> list[Entry]:
    """Every entry of one document, parsed in a thread: for one-off commands (``test-rule``
    on a URL). The daemon uses :class:`Parser`, which has a deadline and a memory cap."""
    parsed = await asyncio.to_thread(kind.parse, fetched)
    return parsed.entries


def parse_file(path: Path) -> list[Entry]:
    """Entries of a local feed file (``monitor test-rule FILE``); FetchError if unreadable.
    Parsed in-process: the file is the operator's own."""
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from exc
    content_type = "application/feed+json" if path.suffix.lower() == ".json" else None
    fetched = Fetched(
        url=path.resolve().as_uri(),
        status=200,
        body=body,
        content_type=content_type,
        etag=None,
        last_modified=None,
    )
    return FEED.parse(fetched).entries
