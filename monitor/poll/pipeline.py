"""One poll of one source, as a recipe: fetch, parse, normalize, dedupe, match, record."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.backoff import next_due, next_poll_delay
from monitor.core.errors import HTTPStatusError, SourceError, StoreError
from monitor.core.logs import LOGGER, event
from monitor.core.metrics import Metrics
from monitor.core.models import (
    Delivery,
    Fetched,
    HubLink,
    Item,
    Location,
    Match,
    News,
    PollFailure,
    PollOutcome,
    PollResult,
    SourceState,
)
from monitor.core.redact import shown
from monitor.delivery.routing import Router
from monitor.net.http import HttpClient, NotModified, Validators
from monitor.poll.articles import ArticleReader
from monitor.poll.budget import PollBudget
from monitor.poll.following import Documents
from monitor.poll.health import HealthWatch, PollSeen
from monitor.poll.pushes import Pushes
from monitor.poll.redirects import LinkResolver
from monitor.rules.matcher import Matcher
from monitor.sources.base import Read, SourceKind
from monitor.sources.normalize import log_shared_guids
from monitor.sources.registry import FEED, Parser, kind_of
from monitor.store.sources import SourceStore
from monitor.store.writer import PollWriter

Clock = Callable[[], datetime]
MOVE_AFTER = 3  # consecutive polls permanently redirected to one URL before it replaces ours
GONE = 410


@dataclass(frozen=True, slots=True)
class PollReport:
    source: str
    result: PollResult
    new_items: int = 0
    matches: int = 0
    error: str | None = None
    next_due_at: datetime | None = None  # None: not polled again until its URL changes
    hub: HubLink | None = None  # (result ok) where the feed says it is pushed (WebSub)


def track_location(state: SourceState, redirect: str | None) -> Location | None:
    """Where to poll next, given where this poll was permanently (301/308) redirected.

    A temporary redirect, or none, resets the count; the same permanent target on
    MOVE_AFTER consecutive polls becomes the source's URL. None: nothing changes."""
    if redirect is None or redirect == state.url:
        if state.redirect_url is None and state.redirect_count == 0:
            return None
        return Location(state.url)
    count = state.redirect_count + 1 if redirect == state.redirect_url else 1
    if count >= MOVE_AFTER:
        return Location(redirect)
    return Location(state.url, redirect, count)


class PollRuntime(Protocol):
    """What a poll reads of the configuration in force (monitor.runtime.Runtime is one): taken
    once when the poll starts, so a reload meanwhile changes nothing of it."""

    @property
    def config(self) -> Config: ...
    @property
    def matcher(self) -> Matcher: ...
    @property
    def router(self) -> Router: ...


@dataclass
class Poller:
    runtime: Callable[[], PollRuntime]  # the configuration in force, read at each poll's start
    http: HttpClient
    parser: Parser
    store: SourceStore
    clock: Clock
    metrics: Metrics = field(default_factory=Metrics)
    websub: Pushes | None = None  # the hubs' deliveries make polls rarer
    health: HealthWatch = field(init=False)
    writer: PollWriter = field(init=False)
    articles: ArticleReader = field(init=False)
    links: LinkResolver = field(init=False)
    documents: Documents = field(init=False)

    def __post_init__(self) -> None:
        self.health = HealthWatch(self.store.engine)
        self.writer = PollWriter(self.store)
        self.articles = ArticleReader(self.http, self.parser)
        self.links = LinkResolver(self.http)
        self.documents = Documents(self.http, self.parser)

    def interval(self, config: Config, source: SourceConfig) -> timedelta:
        """How often ``source`` is polled: its interval, or less often while a hub delivers it."""
        interval = config.interval_of(source)
        if self.websub is not None and source.name in self.websub.delivering:
            return self.websub.poll_interval(interval)
        return interval

    async def _hub_missed(
        self, source: SourceConfig, state: SourceState, outcome: PollOutcome
    ) -> bool:
        """Whether this poll found new items while the hub trusted to deliver the source
        delivered nothing since the last poll (a delivery records only the items it alerted,
        so a poll may find the others, later, with more text than a hub's thin copy)."""
        if self.websub is None or not outcome.items or source.name not in self.websub.delivering:
            return False
        return not await self.websub.pushed_since(source.name, state.last_poll_at)

    async def run_source(self, source: SourceConfig, state: SourceState) -> PollReport:
        """Poll one source and record the outcome; never raises for a source failure."""
        started, now, rt = time.monotonic(), self.clock(), self.runtime()
        interval = self.interval(rt.config, source)
        try:
            fetching = time.monotonic()
            kind = kind_of(source, _read_until(state))
            # a document naming others to read (a sitemap index) is read whole every time:
            # its own 304, or an unchanged body, says nothing of theirs
            validators = (
                Validators() if kind.follows else Validators(state.etag, state.last_modified)
            )
            fetched = await self.http.fetch(state.url, validators)
            self.metrics.fetch_seconds.observe(time.monotonic() - fetching)
            due = next_due(state.next_due_at, now, interval)
            budget = PollBudget.of(rt.config, started)
            outcome = await self._outcome(rt, source, kind, state, fetched, now, due, budget)
        except SourceError as exc:
            return await self._failed(rt, source, state, exc, now, interval, started)
        except StoreError:
            raise
        except Exception as exc:  # a bug must cost one poll, with backoff, not the source
            LOGGER.exception("poll-bug", extra={"fields": {"source": source.name}})
            failure = SourceError(f"internal error: {type(exc).__name__}: {exc}")
            return await self._failed(rt, source, state, failure, now, interval, started)
        await self.writer.write(outcome)
        if await self._hub_missed(source, state, outcome) and self.websub is not None:
            await self.websub.missed(source.name)  # polled on its own interval again
        poll = PollSeen(source.name, now, new_items=len(outcome.items))
        await self.health.observe(rt.config, state, poll)
        if outcome.location is not None and outcome.location.url != state.url:
            event(
                "source-moved",
                level=logging.WARNING,
                source=source.name,
                old=state.url,
                new=outcome.location.url,
            )
        report = PollReport(
            source.name,
            outcome.result,
            len(outcome.items),
            sum(len(m) for m in outcome.matches.values()),
            next_due_at=outcome.next_due_at,
            hub=outcome.hub,
        )
        seconds = time.monotonic() - started
        self.metrics.poll(report.result, seconds, report.new_items, report.matches)
        event(
            "poll",
            source=source.name,
            result=report.result,
            status=outcome.status,
            new_items=report.new_items,
            matches=report.matches,
            duration=f"{seconds:.3f}s",
        )
        return report

    async def _outcome(
        self,
        rt: PollRuntime,
        source: SourceConfig,
        kind: SourceKind,
        state: SourceState,
        fetched: Fetched | NotModified,
        now: datetime,
        next_due: datetime,
        budget: PollBudget,
    ) -> PollOutcome:
        location = track_location(state, fetched.permanent_redirect)
        if isinstance(fetched, NotModified):
            return PollOutcome(
                source.name,
                now,
                "not-modified",
                304,
                state.etag,
                state.last_modified,
                state.content_hash,
                next_due,
                location,
            )
        digest = hashlib.sha256(fetched.body).hexdigest()
        unchanged = PollOutcome(
            source.name,
            now,
            "unchanged",
            fetched.status,
            fetched.etag,
            fetched.last_modified,
            digest,
            next_due,
            location,
        )
        if digest == state.content_hash and not kind.follows:
            return unchanged  # the server ignored our validators: nothing to parse
        read = await self.parser.parse(kind, fetched, source.name, now)
        if read.feeds:  # a home page (kind auto): the source moves to the feed found there
            fetched, read = await self.documents.discovered(
                source.name, fetched.url, read.feeds, now, budget
            )
            unchanged = replace(
                unchanged,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                content_hash=hashlib.sha256(fetched.body).hexdigest(),
                location=Location(fetched.url),
            )
        max_items = rt.config.limits.max_items
        read = await self.documents.followed(kind, read, source.name, now, budget, max_items)
        news = await self._news(rt, source, state, read, now, budget)
        return replace(
            unchanged,
            result="ok",
            items=news.items,
            matches=news.matches,
            deliveries=news.deliveries,
            hub=fetched.hub or read.hub,
        )

    async def run_push(self, source: SourceConfig, fetched: Fetched) -> PollReport:
        """Record what ``source``'s hub delivered (WebSub): read, deduplicated, matched and
        routed as a poll's body is, the source's polling state left to its polls. Raises
        SourceError when the body cannot be read, StoreError when it cannot be recorded."""
        started, now, rt = time.monotonic(), self.clock(), self.runtime()
        state = (await self.store.states([source.name]))[source.name]
        # read as the polls read the feed (relative links, identities), whatever the topic
        read = await self.parser.parse(FEED, replace(fetched, url=state.url), source.name, now)
        news = await self._news(rt, source, state, read, now, PollBudget.of(rt.config, started))
        # only what alerts is recorded: a hub's copy may be thinner than the feed's (YouTube's
        # has no description), and the next poll must still match the others on all their text
        alerted = tuple(item for item in news.items if item.key in news.matches)
        news = replace(news, items=alerted)
        await self.writer.write(news)
        matches = sum(len(m) for m in news.matches.values())
        seconds = time.monotonic() - started
        self.metrics.push(len(news.items), matches)
        event(
            "push",
            source=source.name,
            new_items=len(news.items),
            matches=matches,
            duration=f"{seconds:.3f}s",
        )
        return PollReport(source.name, "pushed", len(news.items), matches)

    async def _news(
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
        fresh = await self._unseen(state, read.items)
        alertable = self._alertable(rt.config, fresh, state, now)
        if source.redirect_host is not None and alertable:  # the publishers' links
            resolved = await self.links.resolve(alertable, source.redirect_host, budget)
            alertable, fresh = _replaced(resolved, alertable, fresh)
        if source.fetch_article and alertable:  # their own pages, for their text
            enriched = await self.articles.read(alertable, now, budget)
            alertable, fresh = _replaced(enriched, alertable, fresh)
        found = {item.key: tuple(m) for item, m in match_items(rt.matcher, alertable)}
        deliveries: tuple[Delivery, ...] = tuple(rt.router.route(found))
        return News(source.name, now, tuple(fresh), found, deliveries)

    async def _unseen(self, state: SourceState, items: Sequence[Item]) -> list[Item]:
        if not state.has_items:  # a new source (every source, at a first start): no read
            return list(items)
        seen = await self.store.seen(state.name, [item.key for item in items])
        return [item for item in items if item.key not in seen]

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

    async def _failed(
        self,
        rt: PollRuntime,
        source: SourceConfig,
        state: SourceState,
        exc: SourceError,
        now: datetime,
        interval: timedelta,
        started: float,
    ) -> PollReport:
        status = exc.status if isinstance(exc, HTTPStatusError) else None
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        delay = next_poll_delay(interval, state.error_count + 1, retry_after)
        gone = status == GONE
        errors = state.error_count + 1  # this source's polls do not overlap
        error = shown(str(exc))  # as recorded, notified and logged: no secret, no escape
        await self.writer.write(
            PollFailure(source.name, now, status, error, now + delay, gone=gone)
        )
        await self.health.observe(rt.config, state, PollSeen(source.name, now, error, gone=gone))
        event(
            "poll",
            level=logging.WARNING,
            source=source.name,
            result="error",
            status=status,
            error=error,
            errors=errors,
            retry_in="never (gone: fix its url)" if gone else f"{int(delay.total_seconds())}s",
            duration=f"{time.monotonic() - started:.3f}s",
        )
        self.metrics.poll("error", time.monotonic() - started, 0, 0)
        return PollReport(
            source.name, "error", error=error, next_due_at=None if gone else now + delay
        )


def _read_until(state: SourceState) -> datetime | None:
    """When the source was last read whole: its last poll, or while its polls fail, the one
    before the first failure (a sitemap's URLs dated in between must still be read)."""
    if state.error_count and state.failing_since is not None:
        return state.failing_since
    return state.last_poll_at


def _replaced(
    changed: Sequence[Item], alertable: Sequence[Item], fresh: Sequence[Item]
) -> tuple[list[Item], list[Item]]:
    """``alertable`` and ``fresh`` with the items of ``changed`` in place of theirs (by key)."""
    by_key = {item.key: item for item in changed}
    return [by_key[i.key] for i in alertable], [by_key.get(i.key, i) for i in fresh]


def match_items(matcher: Matcher, items: Sequence[Item]) -> list[tuple[Item, list[Match]]]:
    """The items that match at least one rule, with their matches (used by test-rule)."""
    return [(item, found) for item in items if (found := matcher.match(item))]
