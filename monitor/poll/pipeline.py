"""One poll of one source, as a recipe: fetch, parse, normalize, dedupe, match, record."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.backoff import next_due, next_poll_delay
from monitor.core.errors import HTTPStatusError, SourceError, StoreError
from monitor.core.logs import LOGGER, event
from monitor.core.metrics import Metrics
from monitor.core.models import (
    Fetched,
    Location,
    PollFailure,
    PollOutcome,
    SourceState,
)
from monitor.core.redact import shown
from monitor.net.http import HttpClient, NotModified, Validators
from monitor.poll.articles import ArticleReader
from monitor.poll.budget import PollBudget
from monitor.poll.following import Documents
from monitor.poll.health import HealthWatch, PollSeen
from monitor.poll.news import NewsStep
from monitor.poll.pushes import Pushes
from monitor.poll.reach import unreachable
from monitor.poll.redirects import LinkResolver
from monitor.poll.report import PollReport, PollRuntime
from monitor.sources.base import SourceKind
from monitor.sources.registry import FEED, Parser, kind_of
from monitor.store.sources import SourceStore
from monitor.store.writer import PollWriter

Clock = Callable[[], datetime]
MOVE_AFTER = 3  # consecutive polls permanently redirected to one URL before it replaces ours
GONE = 410


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
    news: NewsStep = field(init=False)
    documents: Documents = field(init=False)

    def __post_init__(self) -> None:
        self.health = HealthWatch(self.store.engine)
        self.writer = PollWriter(self.store)
        self.news = NewsStep(
            self.store, LinkResolver(self.http), ArticleReader(self.http, self.parser)
        )
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
            options = source.request_options  # its headers, credentials, proxy
            fetched = await self.http.fetch(state.url, validators, options)
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
        await self.writer.write(replace(outcome, seconds=time.monotonic() - started))
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
            len(outcome.matches),
            sum(len(m) for m in outcome.matches.values()),
            next_due_at=outcome.next_due_at,
            hub=outcome.hub,
        )
        seconds = time.monotonic() - started
        self.metrics.poll(report.result, seconds, report.new_items, report.rule_hits)
        event(
            "poll",
            source=source.name,
            result=report.result,
            status=outcome.status,
            new_items=report.new_items,
            matched_items=report.matched_items,
            rule_hits=report.rule_hits,
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
        options = source.request_options
        if read.feeds:  # a home page (kind auto): the source moves to the feed found there
            fetched, read = await self.documents.discovered(
                source.name, fetched.url, read.feeds, now, budget, options
            )
            unchanged = replace(
                unchanged,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                content_hash=hashlib.sha256(fetched.body).hexdigest(),
                location=Location(fetched.url),
            )
        max_items = rt.config.limits.max_items
        read = await self.documents.followed(
            kind, read, source.name, now, budget, max_items, options
        )
        news = await self.news.find(rt, source, state, read, now, budget)
        return replace(
            unchanged,
            result="ok",
            items=news.items,
            matches=news.matches,
            deliveries=news.deliveries,
            hub=fetched.hub or read.hub,
            words=news.words,
            sighted=news.sighted,
        )

    async def run_push(self, source: SourceConfig, fetched: Fetched) -> PollReport:
        """Record what ``source``'s hub delivered (WebSub): read, deduplicated, matched and
        routed as a poll's body is, the source's polling state left to its polls. Raises
        SourceError when the body cannot be read, StoreError when it cannot be recorded."""
        started, now, rt = time.monotonic(), self.clock(), self.runtime()
        state = (await self.store.states([source.name]))[source.name]
        # read as the polls read the feed (relative links, identities), whatever the topic
        read = await self.parser.parse(FEED, replace(fetched, url=state.url), source.name, now)
        news = await self.news.find(rt, source, state, read, now, PollBudget.of(rt.config, started))
        # only what alerts is recorded: a hub's copy may be thinner than the feed's (YouTube's
        # has no description), and the next poll must still match the others on all their text
        alerted = tuple(item for item in news.items if item.key in news.matches)
        news = replace(news, items=alerted)
        await self.writer.write(news)
        hits = sum(len(m) for m in news.matches.values())
        seconds = time.monotonic() - started
        self.metrics.push(len(news.items), hits)
        event(
            "push",
            source=source.name,
            new_items=len(news.items),
            matched_items=len(news.matches),
            rule_hits=hits,
            duration=f"{seconds:.3f}s",
        )
        return PollReport(source.name, "pushed", len(news.items), len(news.matches), hits)

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
            PollFailure(
                source.name,
                now,
                status,
                error,
                now + delay,
                gone=gone,
                seconds=time.monotonic() - started,
            )
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
            source.name,
            "error",
            error=error,
            next_due_at=None if gone else now + delay,
            unreachable=unreachable(exc),
        )


def _read_until(state: SourceState) -> datetime | None:
    """When the source was last read whole: its last poll, or while its polls fail, the one
    before the first failure (a sitemap's URLs dated in between must still be read)."""
    if state.error_count and state.failing_since is not None:
        return state.failing_since
    return state.last_poll_at
