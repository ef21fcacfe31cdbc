"""The news step of a poll: of the items a source read, those not seen before, and among them
those that alert (recent enough on a first poll, with the publisher's link and page text where
the source asks), matched and routed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.logs import event
from monitor.core.models import Delivery, Item, Match, News, SourceState
from monitor.poll.articles import ArticleReader
from monitor.poll.budget import PollBudget
from monitor.poll.redirects import LinkResolver
from monitor.poll.report import PollRuntime
from monitor.poll.words import search_words
from monitor.rules.matcher import Matcher
from monitor.sources.base import Read
from monitor.sources.normalize import log_shared_guids
from monitor.store.sources import SourceStore


@dataclass(frozen=True, slots=True)
class NewsStep:
    store: SourceStore
    links: LinkResolver  # the publishers' links behind a redirecting host (Google News)
    articles: ArticleReader  # the pages of sources that fetch each article's text

    async def find(
        self,
        rt: PollRuntime,
        source: SourceConfig,
        state: SourceState,
        read: Read,
        now: datetime,
        budget: PollBudget,
    ) -> News:
        """The items of ``read`` not seen before, those that alert matched and routed."""
        if read.total > read.kept:
            event(
                "items-dropped",
                level=logging.WARNING,
                source=source.name,
                kept=read.kept,
                dropped=read.total - read.kept,
            )
        log_shared_guids(source.name, read.shared_guids)
        fresh, sighted = await self._unseen(state, read.items, now)
        alertable = self._alertable(rt.config, fresh, state, now)
        if source.redirect_host is not None and alertable:  # the publishers' links
            host, options = source.redirect_host, source.request_options
            resolved = await self.links.resolve(alertable, host, budget, options)
            alertable, fresh = _replaced(resolved, alertable, fresh)
        if source.fetch_article and alertable:  # their own pages, for their text
            enriched = await self.articles.read(alertable, now, budget, source.request_options)
            alertable, fresh = _replaced(enriched, alertable, fresh)
        matched = match_items(rt.matcher, alertable, source.tags)
        found = {item.key: tuple(m) for item, m in matched}
        deliveries: tuple[Delivery, ...] = tuple(rt.router.route(found))
        words = search_words(fresh)
        return News(source.name, now, tuple(fresh), found, deliveries, words, sighted)

    async def _unseen(
        self, state: SourceState, items: Sequence[Item], now: datetime
    ) -> tuple[list[Item], tuple[str, ...]]:
        """The items not seen before, and the keys of those seen to mark as still in the feed."""
        # a source never polled (every source, at a first start): no read. One polled before
        # with no item left is read: its items may have gone past the seen-window, their
        # identity not. (Not first_poll_at: a new URL or kind starts a source afresh, clearing
        # it for backfill, and keeps what it has seen; last_poll_at stays.)
        if not state.has_items and state.last_poll_at is None:
            return list(items), ()
        # the items still in the feed are marked at the first read of it in a (UTC) day: the
        # other reads take only the keys (an index), not each item's date
        last = state.read_at
        first_today = last is None or last.date() != now.date()
        when = now if first_today else None
        found = await self.store.sightings(state.name, [item.key for item in items], when)
        return [item for item in items if item.key not in found.seen], found.stale

    def _alertable(
        self, config: Config, items: Sequence[Item], state: SourceState, now: datetime
    ) -> list[Item]:
        """On a source's first poll only recent items alert; the rest are recorded silently."""
        if state.first_poll_at is not None:
            return list(items)
        horizon = now - config.defaults.backfill
        recent = [i for i in items if i.published is not None and i.published >= horizon]
        if len(recent) < len(items):
            undated = sum(1 for i in items if i.published is None)
            event(
                "first-poll",
                source=state.name,
                alerting=len(recent),
                recorded_silently=len(items) - len(recent),
                undated=undated,
            )
        return recent


def _replaced(
    changed: Sequence[Item], alertable: Sequence[Item], fresh: Sequence[Item]
) -> tuple[list[Item], list[Item]]:
    """``alertable`` and ``fresh`` with the items of ``changed`` in place of theirs (by key)."""
    by_key = {item.key: item for item in changed}
    return [by_key[i.key] for i in alertable], [by_key.get(i.key, i) for i in fresh]


def match_items(
    matcher: Matcher, items: Sequence[Item], tags: Sequence[str] = ()
) -> list[tuple[Item, list[Match]]]:
    """The items that match at least one rule, with their matches (used by test-rule);
    ``tags``: their source's (store mode: the matcher checks tags as it matches)."""
    return [(item, found) for item in items if (found := matcher.match(item, tags))]
