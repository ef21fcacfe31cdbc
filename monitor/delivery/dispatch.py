"""Digest delivery: close each subscriber's period when its schedule says so, then send every
due digest through the subscriber's notifier, marking it sent only once accepted.

Thousands of subscribers cost a few transactions, not a few per subscriber: the periods due are
closed together, and the digests being sent are loaded and marked sent in shared batches
(monitor.store.batcher), each send still waiting for its own mark to be committed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import NotifyError, PermanentNotifyError, ReceiverGone
from monitor.core.logs import event
from monitor.core.metrics import Metrics
from monitor.core.models import Digest, SendResult
from monitor.notifiers.base import Notifier
from monitor.store.batcher import Batcher
from monitor.store.leases import Leases, replica_name, subscriber_leases
from monitor.store.outbox import Outbox
from monitor.store.standing import Standing

# sends at once: each waits on its receiver, but the store and the CPU rendering digests are one
CONCURRENCY = 100


@dataclass(frozen=True, slots=True)
class SendReport:
    digest: str
    subscriber: str
    items: int
    result: SendResult


class SendRuntime(Protocol):
    """What a flush reads of the configuration in force (monitor.runtime.Runtime is one):
    taken once when the flush starts, so a reload meanwhile changes nothing of it."""

    @property
    def subscribers(self) -> Mapping[str, SubscriberConfig]: ...
    @property
    def notifiers(self) -> Mapping[str, Notifier]: ...
    @property
    def zone(self) -> ZoneInfo: ...
    @property
    def lease(self) -> timedelta:
        """How long a replica holds a subscriber while it forms and sends its digests."""
        ...


@dataclass
class Dispatcher:
    runtime: Callable[[], SendRuntime]  # the configuration in force, read at each flush's start
    outbox: Outbox
    clock: Callable[[], datetime]
    # other replicas' dispatchers: a subscriber's digests are formed and sent by the one
    # holding its lease (None: a lease of its own, as a replica of its own)
    leases: Leases | None = None
    metrics: Metrics = field(default_factory=Metrics)
    # two flushes at once could send one digest twice: they take turns
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    concurrency: int = CONCURRENCY
    standing: Standing = field(init=False)
    _loads: Batcher[str, Digest] = field(init=False)
    _marks: Batcher[tuple[str, datetime], None] = field(init=False)

    def __post_init__(self) -> None:
        self.standing = Standing(self.outbox.engine)
        if self.leases is None:
            self.leases = subscriber_leases(self.outbox.engine, replica_name())
        # (a batch naming a digest not in the store is loaded again one by one: it fails alone)
        self._loads = Batcher(self.outbox.load_many, "digest not loaded")
        self._marks = Batcher(self._mark_sent, "digest not marked sent")

    async def _mark_sent(self, sent: Sequence[tuple[str, datetime]]) -> list[None]:
        await self.outbox.mark_sent_many(sent)
        return [None] * len(sent)

    async def flush(self, only_immediate: bool = False) -> list[SendReport]:
        """Form the digests that are due, then send every digest whose attempt is due."""
        async with self.lock:
            return await self._flush(only_immediate)

    async def _flush(self, only_immediate: bool) -> list[SendReport]:
        assert self.leases is not None
        now, rt = self.clock(), self.runtime()
        # whatever was queued for an unsubscribed subscriber since is dropped, never sent
        gone = await self.standing.unsubscribed()
        await self.standing.drop_unsubscribed(gone & rt.subscribers.keys())
        # a paused subscriber's period stays open and its digests wait: what it is owed is
        # held, and sent at the first flush after its pause, once
        held = gone | await self.standing.paused(now)
        wanted = [name for name in rt.subscribers if name not in held]
        mine = set(await self.leases.claim(wanted, now, now + rt.lease))
        try:
            return await self._flush_claimed(rt, mine, now, only_immediate)
        finally:
            await self.leases.release(mine)

    async def _flush_claimed(
        self, rt: SendRuntime, mine: set[str], now: datetime, only_immediate: bool
    ) -> list[SendReport]:
        """Close the due periods of the subscribers this replica holds, and send their due
        digests: another replica never forms or sends one of theirs meanwhile."""
        wanted = [
            subscriber
            for subscriber in rt.subscribers.values()
            if subscriber.name in mine and (subscriber.digest.immediate or not only_immediate)
        ]
        starts = await self.outbox.period_starts([subscriber.name for subscriber in wanted])
        closing = {
            subscriber.name: subscriber.max_items
            for subscriber in wanted
            if subscriber.name in starts
            and subscriber.digest.is_due(starts[subscriber.name], now, rt.zone)
        }
        await self.outbox.close_periods(closing, now)
        sendable = (rt.notifiers.keys() & mine) - await self.standing.disabled()
        due = [(d, s) for d, s in await self.outbox.due(now) if s in sendable]
        # one slow receiver must not hold the others: subscribers are served concurrently
        by_subscriber: dict[str, list[str]] = {}
        for digest_id, name in due:
            by_subscriber.setdefault(name, []).append(digest_id)
        # every send finishes (and is recorded) before the lock is released, even if one fails
        gate = asyncio.Semaphore(self.concurrency)
        results = await asyncio.gather(
            *(self._send_all(rt, ids, gate) for ids in by_subscriber.values()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [report for reports in results if isinstance(reports, list) for report in reports]

    async def _send_all(
        self, rt: SendRuntime, digest_ids: list[str], gate: asyncio.Semaphore
    ) -> list[SendReport]:
        reports = []
        for digest_id in digest_ids:
            async with gate:
                report = await self.send(rt.notifiers, digest_id)
            reports.append(report)
            if report.result != "sent":
                break  # keep the order of digests; the rest wait for this one's retry
        return reports

    async def send(self, notifiers: Mapping[str, Notifier], digest_id: str) -> SendReport:
        digest = await self._loads.submit(digest_id)
        notifier = notifiers[digest.subscriber]
        now = self.clock  # read again after each await: a send can take a while
        try:
            await notifier.send(digest)
        except ReceiverGone as exc:
            # the receiver asked us to stop: hold everything (nothing is dropped) until the
            # subscriber's address changes in the configuration
            await self.outbox.mark_failed(digest_id, now(), str(exc), permanent=False)
            await self.standing.disable(digest.subscriber, now(), str(exc))
            return self._report(digest, "disabled", level=logging.WARNING, error=str(exc))
        except Exception as exc:  # a notifier bug must not lose the digest: retried later
            if not isinstance(exc, NotifyError):
                event(
                    "notifier-bug",
                    level=logging.ERROR,
                    subscriber=digest.subscriber,
                    error=repr(exc),
                )
            permanent = isinstance(exc, PermanentNotifyError)
            dead = await self.outbox.mark_failed(digest_id, now(), str(exc), permanent)
            return self._report(
                digest, "dead" if dead else "retry", level=logging.WARNING, error=str(exc)
            )
        await self._marks.submit((digest_id, now()))
        return self._report(digest, "sent")

    def _report(
        self,
        digest: Digest,
        result: SendResult,
        level: int = logging.INFO,
        error: str | None = None,
    ) -> SendReport:
        self.metrics.send(result)
        event(
            "delivery",
            level=level,
            subscriber=digest.subscriber,
            digest=digest.id,
            result=result,
            items=len(digest.items),
            error=error,
        )
        return SendReport(digest.id, digest.subscriber, len(digest.items), result)
