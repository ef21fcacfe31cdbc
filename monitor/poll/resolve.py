"""Finding the feed of a home page (``kind: auto``): for the daemon's first poll of such a
source (monitor.poll.pipeline), and for ``monitor check --resolve``, which tries without
recording."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.clock import Clock, utcnow
from monitor.core.errors import SourceError
from monitor.core.models import Fetched
from monitor.core.redact import shown
from monitor.core.units import counted
from monitor.net.http import HttpClient
from monitor.net.options import RequestOptions
from monitor.poll.budget import UNLIMITED, PollBudget
from monitor.sources.base import SourceKind
from monitor.sources.registry import FEED, kind_of, parse_off_loop

T = TypeVar("T")
Fetch = Callable[[str], Awaitable[Fetched]]  # HttpClient.get
MAX_SITEMAPS = 3  # named in a message


async def find_feed(
    page: str,
    candidates: Sequence[str],
    fetch: Fetch,
    read: Callable[[Fetched], Awaitable[T]],
    budget: PollBudget = UNLIMITED,
) -> tuple[Fetched, T]:
    """The first of ``candidates`` (where the feed of the home page ``page`` may be) that
    answers and reads as a feed, with what ``read`` made of it. SourceError when the poll's
    budget runs out first, or when none is a feed (saying what to configure instead)."""
    for tried, url in enumerate(candidates):
        if not budget.allows():
            left = len(candidates) - tried
            raise SourceError(out_of_time("addresses where the feed may be", left))
        try:
            fetched = await fetch(url)
            return fetched, await read(fetched)
        except SourceError:
            continue  # not there, or not a feed: the next one
    sitemaps = await listed_sitemaps(page, fetch) if budget.allows() else []
    raise SourceError(no_feed(page, len(candidates), sitemaps))


async def listed_sitemaps(page: str, fetch: Fetch) -> list[str]:
    """The sitemaps the site's robots.txt lists (``Sitemap:`` lines); none if it has none."""
    site = urlsplit(page)
    try:
        robots = await fetch(f"{site.scheme}://{site.netloc}/robots.txt")
    except SourceError:
        return []
    found = []
    for line in robots.body.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            found.append(urljoin(page, value.strip()))
    return found[:MAX_SITEMAPS]


def no_feed(page: str, tried: int, sitemaps: Sequence[str]) -> str:
    """What to say of a page none of whose ``tried`` addresses is a feed (redacted where it is
    recorded or printed, as every poll error: monitor.core.redact)."""
    listed = f" (robots.txt lists {', '.join(sitemaps)})" if sitemaps else ""
    return (
        f"no feed found for {page}: none of the {tried} addresses tried (those the "
        "page announces, then the usual /feed/, /rss…) is a feed; configure it as kind: html "
        f"(CSS selectors for its list of articles) or kind: sitemap{listed}"
    )


def out_of_time(what: str, left: int) -> str:
    return (
        f"{left} {what} left unread: one more request could outlast the source's lease "
        "(cluster.lease); the next poll tries again"
    )


async def resolve_command(config: Config, clock: Clock = utcnow) -> int:
    """``monitor check --resolve``: the feed each ``kind: auto`` source would be polled at,
    found as the daemon finds it, nothing recorded. Exit status 1 when one has none."""
    status = 0
    async with HttpClient(config.network, clock=clock) as http:
        async for source in _sources(config):
            if source.kind != "auto":
                continue
            try:
                line = await _resolve(http, source.url, kind_of(source), source.request_options)
            except SourceError as exc:
                line, status = str(exc), 1
            print(shown(f"{source.name}: {line}"))
    return status


async def _sources(config: Config) -> AsyncIterator[SourceConfig]:
    """The configuration's sources; in store mode the store's, read a page at a time."""
    if config.sources_from != "store":
        for source in config.sources:
            yield source
        return
    from monitor.store import open_reader
    from monitor.store.catalog import stored_pages
    from monitor.store.definitions import Definitions

    engine = await open_reader(config.storage)
    try:
        async for page in stored_pages(Definitions(engine)):
            for source in page:
                yield source
    finally:
        await engine.dispose()


async def _resolve(http: HttpClient, url: str, kind: SourceKind, options: RequestOptions) -> str:
    page = await http.get(url, options)
    parsed = await asyncio.to_thread(kind.parse, page)
    if not parsed.feeds:
        said = counted(len(parsed.entries), "entry", "entries")
        return f"feed {page.url} (the address is a feed: {said})"
    fetched, entries = await find_feed(
        page.url, parsed.feeds, partial(http.get, options=options), partial(parse_off_loop, FEED)
    )
    said = counted(len(entries), "entry", "entries")
    return f"feed {fetched.url} ({said}), found on {page.url}"
