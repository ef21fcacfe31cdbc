"""The documents a poll reads beyond its source's own: the sitemaps a sitemap index names, and
the feed a home page (``kind: auto``) announces. Fetched through the shared client and parsed
in the parse workers, one at a time (polite to the site), within the poll's budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from monitor.core.errors import SourceError
from monitor.core.logs import event
from monitor.core.models import Fetched, Item
from monitor.net.http import HttpClient
from monitor.net.options import NO_OPTIONS, RequestOptions
from monitor.poll.budget import PollBudget
from monitor.poll.resolve import find_feed, out_of_time
from monitor.sources.base import Read, SourceKind
from monitor.sources.registry import FEED, Parser


@dataclass(frozen=True, slots=True)
class Documents:
    http: HttpClient
    parser: Parser

    async def followed(
        self,
        kind: SourceKind,
        read: Read,
        source: str,
        now: datetime,
        budget: PollBudget,
        max_items: int,
        options: RequestOptions = NO_OPTIONS,
    ) -> Read:
        """With the documents ``read`` says to read too (a sitemap index's sitemaps), fetched
        and parsed, one level: theirs are not followed. One that fails, or that there is no
        time left to read, fails the poll, and the next poll reads them all again: nothing is
        missed."""
        if not read.follow:
            return read
        children = []
        for done, url in enumerate(read.follow):
            if not budget.allows():
                raise SourceError(out_of_time("sitemaps of the index", len(read.follow) - done))
            fetched = await self.http.get(url, options)
            children.append(await self.parser.parse(kind, fetched, source, now))
        reads = [read, *children]  # one at a time: polite to the site, and a failure stops it
        merged = {item.key: item for child in reversed(reads) for item in child.items}
        items = sorted(merged.values(), key=_newest_first)[:max_items]
        capped = sum(child.total - child.kept for child in reads)  # by max_items, per document
        shared = sum(child.shared_guids for child in reads)
        return Read(items, len(items), len(merged) + capped, shared)

    async def discovered(
        self,
        source: str,
        page: str,
        feeds: Sequence[str],
        now: datetime,
        budget: PollBudget,
        options: RequestOptions = NO_OPTIONS,
    ) -> tuple[Fetched, Read]:
        """The first of ``feeds`` (where a home page's feed may be) that is a feed, fetched and
        read; SourceError if none is. ``options``: the source's (its credentials and headers
        go only to a feed on its own origin)."""

        async def read(fetched: Fetched) -> Read:
            return await self.parser.parse(FEED, fetched, source, now)

        found = await find_feed(page, feeds, partial(self.http.get, options=options), read, budget)
        event("feed-found", source=source, page=page, feed=found[0].url)
        return found


def _newest_first(item: Item) -> float:
    return -item.published.timestamp() if item.published else 0.0
