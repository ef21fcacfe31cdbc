"""The registry of source kinds (the one place a kind registers) and the ways to parse."""

from __future__ import annotations

import asyncio
from pathlib import Path

from monitor.errors import FetchError
from monitor.models import Entry, Fetched
from monitor.sources.base import Parsed, SourceKind
from monitor.sources.feed import FeedKind
from monitor.sources.parser import Parser

__all__ = ["SOURCE_KINDS", "Parsed", "Parser", "SourceKind", "parse_file", "parse_off_loop"]

SOURCE_KINDS: dict[str, SourceKind] = {"feed": FeedKind()}


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
    return SOURCE_KINDS["feed"].parse(fetched).entries
