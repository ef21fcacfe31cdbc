"""The registry of source kinds: the one place a kind registers."""

from __future__ import annotations

import asyncio
from pathlib import Path

from monitor.errors import FetchError
from monitor.http import Fetched
from monitor.models import Entry
from monitor.sources.base import SourceKind
from monitor.sources.feed import FeedKind

__all__ = ["SOURCE_KINDS", "SourceKind", "parse_file", "parse_off_loop"]

SOURCE_KINDS: dict[str, SourceKind] = {"feed": FeedKind()}


async def parse_off_loop(kind: SourceKind, fetched: Fetched) -> list[Entry]:
    """Parse in a worker thread so a big feed does not stall the event loop."""
    return await asyncio.to_thread(kind.parse, fetched)


def parse_file(path: Path) -> list[Entry]:
    """Entries of a local feed file (``monitor test-rule FILE``); FetchError if unreadable."""
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
    return SOURCE_KINDS["feed"].parse(fetched)
