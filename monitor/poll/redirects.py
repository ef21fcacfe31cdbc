"""Links that stand for another: an aggregator's item links that answer with a plain redirect
to the publisher's article (Google News' older article links do). The target becomes the
item's link, hence its identity across sources (Item.article), so the same article from the
outlet's own feed alerts once. Only new alerting items of such a source are asked, a few at a
time; a link that answers anything but a redirect off the aggregator, or cannot be asked,
stays as it is (the story clustering of digests still groups it with the outlet's copy)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from monitor.core.errors import SourceError
from monitor.core.logs import event
from monitor.core.models import Item
from monitor.net.http import HttpClient
from monitor.net.options import NO_OPTIONS, RequestOptions
from monitor.poll.budget import PollBudget
from monitor.sources.normalize import canonical_link

AT_ONCE = 4  # links of one poll asked at the same time


def _host(link: str) -> str | None:
    try:
        return urlsplit(link).hostname
    except ValueError:
        return None


class LinkResolver:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    async def resolve(
        self,
        items: Sequence[Item],
        host: str,
        budget: PollBudget,
        options: RequestOptions = NO_OPTIONS,
    ) -> list[Item]:
        """``items``, those linking to ``host`` with the link it redirects them to, asked as
        their source asks (``options``)."""
        slots = asyncio.Semaphore(AT_ONCE)
        asked = (self._item(i, host, slots, budget, options) for i in items)
        return list(await asyncio.gather(*asked))

    async def _item(
        self,
        item: Item,
        host: str,
        slots: asyncio.Semaphore,
        budget: PollBudget,
        options: RequestOptions,
    ) -> Item:
        if _host(item.link) != host:
            return item  # already the publisher's (a link the kind could decode)
        async with slots:
            if not budget.allows():
                return item
            try:
                target = await self.http.redirect_target(item.link, options)
            except SourceError as exc:
                event("link-unresolved", level=logging.WARNING, source=item.source, error=str(exc))
                return item
        link = canonical_link(target)
        if not link or _host(link) == host:
            return item  # a page of the aggregator's own (newer Google ids): kept as it is
        return replace(item, link=link)
