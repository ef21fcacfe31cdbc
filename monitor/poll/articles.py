"""Reading each new item's own page (a source's ``fetch_article: true``), so rules can match
articles whose feed carries only a title. The page is fetched like any source (address guard,
per-host limit, size cap, timeout) and its main text extracted in a parse worker; it becomes
the item's content when longer than what the feed gave. Digests still show a snippet, never
the article. A page that cannot be read leaves the item as the feed gave it (logged): an
alert is never lost for want of its page. Texts are kept for the last CACHE pages, so an
article that several sources carry is read once, even by polls at the same time."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial

from yarl import URL

from monitor.core.errors import SourceError
from monitor.core.logs import event
from monitor.core.models import Item
from monitor.net.http import HttpClient
from monitor.net.options import NO_OPTIONS, RequestOptions
from monitor.poll.budget import PollBudget
from monitor.sources.article import ArticleKind
from monitor.sources.parser import Parser

CACHE = 128  # pages whose text is kept (at most 20,000 characters each)
AT_ONCE = 4  # pages of one poll read at the same time: the others wait, not the timeout


class ArticleReader:
    def __init__(self, http: HttpClient, parser: Parser) -> None:
        self.http = http
        self.parser = parser
        self._texts: OrderedDict[tuple[str, str], str] = OrderedDict()  # by _key
        self._reading: dict[tuple[str, str], asyncio.Future[str]] = {}

    async def read(
        self,
        items: Sequence[Item],
        now: datetime,
        budget: PollBudget,
        options: RequestOptions = NO_OPTIONS,
    ) -> list[Item]:
        """``items``, each with its page's text as content where that says more; those whose
        page there is no time left to read (see PollBudget) as they are. ``options``: their
        source's (its credentials and headers go only to pages on its own origin)."""
        slots = asyncio.Semaphore(AT_ONCE)
        reading = (self._item(item, now, slots, budget, options) for item in items)
        read = await asyncio.gather(*reading)
        if late := sum(1 for item in read if item is None):
            event("articles-unread", level=logging.WARNING, source=items[0].source, late=late)
        return [new or old for new, old in zip(read, items, strict=True)]

    async def _item(
        self,
        item: Item,
        now: datetime,
        slots: asyncio.Semaphore,
        budget: PollBudget,
        options: RequestOptions,
    ) -> Item | None:
        if not item.link:
            return item
        async with slots:  # a request's timeout counts its wait for a connection
            if _key(item, options) not in self._texts and not budget.allows():
                return None  # as the feed gave it: the poll must end before its lease does
            text = await self._text(item, now, options)
        return replace(item, content=text) if len(text) > len(item.content) else item

    async def _text(self, item: Item, now: datetime, options: RequestOptions) -> str:
        key = _key(item, options)
        if key in self._texts:
            self._texts.move_to_end(key)
            return self._texts[key]
        reading = self._reading.get(key)
        if reading is None:  # one read a page, however many polls want it at once
            reading = asyncio.ensure_future(self._read(item, now, options, key))
            self._reading[key] = reading
            reading.add_done_callback(partial(self._finished, key))
        return await asyncio.shield(reading)

    def _finished(self, key: tuple[str, str], reading: asyncio.Future[str]) -> None:
        self._reading.pop(key, None)
        if not reading.cancelled():
            reading.exception()  # seen here: a read that outlived its polls (at shutdown)

    async def _read(
        self, item: Item, now: datetime, options: RequestOptions, key: tuple[str, str]
    ) -> str:
        try:
            fetched = await self.http.get(item.link, options)
            read = await self.parser.parse(ArticleKind(), fetched, item.source, now)
        except SourceError as exc:
            event("article-unread", level=logging.WARNING, source=item.source, error=str(exc))
            return ""
        text = read.items[0].content if read.items else ""
        self._texts[key] = text
        if len(self._texts) > CACHE:
            self._texts.popitem(last=False)
        return text


def _key(item: Item, options: RequestOptions) -> tuple[str, str]:
    """What a page's text is kept under: its link, shared by every source, unless it was read
    with a source's own credentials or headers (then that source's alone: another source must
    not get what only its login could read, nor the first its teaser)."""
    link = item.link or ""
    private = bool(options.private) and options.owns(URL(link))
    return link, item.source if private else ""
