"""One poll of one source, as a recipe: fetch, parse, normalize, dedupe, match, record."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.backoff import next_poll_delay
from monitor.config import Config, SourceConfig
from monitor.errors import HTTPStatusError, SourceError
from monitor.http import Fetched, HttpClient, NotModified, Validators
from monitor.logs import event
from monitor.models import Item, Match, PollOutcome, SourceState
from monitor.normalize import to_items
from monitor.routing import Router
from monitor.rules import Matcher
from monitor.sources import SOURCE_KINDS, parse_off_loop
from monitor.store.sources import SourceStore

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class PollReport:
    source: str
    result: str  # ok | not-modified | unchanged | error
    new_items: int = 0
    matches: int = 0
    error: str | None = None


@dataclass
class Poller:
    config: Config
    http: HttpClient
    store: SourceStore
    matcher: Matcher
    router: Router
    clock: Clock

    async def run_source(self, source: SourceConfig, state: SourceState) -> PollReport:
        """Poll one source and record the outcome; never raises for a source failure."""
        started, now = time.monotonic(), self.clock()
        interval = self.config.interval_of(source)
        try:
            fetched = await self.http.fetch(state.url, Validators(state.etag, state.last_modified))
            outcome = await self._outcome(source, state, fetched, now, now + interval)
        except SourceError as exc:
            return await self._failed(source, state, exc, now, interval, started)
        await self.store.record_success(outcome)
        report = PollReport(
            source.name,
            outcome.result,
            len(outcome.items),
            sum(len(m) for m in outcome.matches.values()),
        )
        event(
            "poll",
            source=source.name,
            result=report.result,
            status=outcome.status,
            new_items=report.new_items,
            matches=report.matches,
            duration=f"{time.monotonic() - started:.3f}s",
        )
        return report

    async def _outcome(
        self,
        source: SourceConfig,
        state: SourceState,
        fetched: Fetched | NotModified,
        now: datetime,
        next_due: datetime,
    ) -> PollOutcome:
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
            )
        digest = hashlib.sha256(fetched.body).hexdigest()
        same = PollOutcome(
            source.name,
            now,
            "unchanged",
            fetched.status,
            fetched.etag,
            fetched.last_modified,
            digest,
            next_due,
        )
        if digest == state.content_hash:
            return same  # the server ignored our validators: nothing to parse
        entries = await parse_off_loop(SOURCE_KINDS[source.kind], fetched)
        fresh = await self._unseen(source.name, to_items(source.name, entries, now))
        found = {
            item.key: tuple(self.matcher.match(item.fields()))
            for item in self._alertable(fresh, state, now)
        }
        found = {key: matches for key, matches in found.items() if matches}
        return PollOutcome(
            source.name,
            now,
            "ok",
            fetched.status,
            fetched.etag,
            fetched.last_modified,
            digest,
            next_due,
            items=tuple(fresh),
            matches=found,
            deliveries=tuple(self.router.route(found)),
        )

    async def _unseen(self, source: str, items: Sequence[Item]) -> list[Item]:
        seen = await self.store.seen(source, [item.key for item in items])
        return [item for item in items if item.key not in seen]

    def _alertable(self, items: Sequence[Item], state: SourceState, now: datetime) -> list[Item]:
        """On a source's first poll only recent items alert; the rest are recorded silently."""
        if state.first_poll_at is not None:
            return list(items)
        horizon = now - self.config.defaults.backfill
        return [i for i in items if i.published is not None and i.published >= horizon]

    async def _failed(
        self,
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
        errors = await self.store.record_failure(source.name, now, status, str(exc), now + delay)
        event(
            "poll",
            level=logging.WARNING,
            source=source.name,
            result="error",
            status=status,
            error=str(exc),
            errors=errors,
            retry_in=f"{int(delay.total_seconds())}s",
            duration=f"{time.monotonic() - started:.3f}s",
        )
        return PollReport(source.name, "error", error=str(exc))


def match_items(matcher: Matcher, items: Sequence[Item]) -> list[tuple[Item, list[Match]]]:
    """The items that match at least one rule, with their matches (used by test-rule)."""
    return [(item, found) for item in items if (found := matcher.match(item.fields()))]
