"""Digest delivery: close each subscriber's period when its schedule says so, then send every
due digest through the subscriber's notifier, marking it sent only once accepted."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config import SubscriberConfig
from monitor.errors import NotifyError, PermanentNotifyError, ReceiverGone
from monitor.logs import event
from monitor.metrics import Metrics
from monitor.models import Digest
from monitor.notifiers.base import Notifier
from monitor.outbox import Outbox
from monitor.store.leases import Leases, replica_name, subscriber_leases


@dataclass(frozen=True, slots=True)
class SendReport:
    digest: str
    subscriber: str
    items: int
    result: str  # sent | retry | dead | disabled


@dataclass
class Dispatcher:
    subscribers: Mapping[str, SubscriberConfig]
    notifiers: Mapping[str, Notifier]
    outbox: Outbox
    zone: ZoneInfo
    clock: Callable[[], datetime]
    # other replicas' dispatchers: a subscriber's digests are formed and sent by the one
    # holding its lease (None: a lease of its own, as a replica of its own)
    leases: Leases | None = None
    lease: timedelta = timedelta(minutes=2)
    metrics: Metrics = field(default_factory=Metrics)
    # two flushes at once could send one digest twice: they take turns
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.leases is None:
            self.leases = subscriber_leases(self.outbox.engine, replica_name())

    async def flush(self, only_immediate: bool = False) -> list[SendReport]:
        """Form the digests that are due, then send every digest whose attempt is due."""
        async with self.lock:
            return await self._flush(only_immediate)

    async def _flush(self, only_immediate: bool) -> list[SendReport]:
        assert self.leases is not None
        now = self.clock()
        # whatever was queued for an unsubscribed subscriber since is dropped, never sent
        gone = await self.outbox.unsubscribed()
        await self.outbox.drop_unsubscribed(gone & self.subscribers.keys())
        wanted = [name for name in self.subscribers if name not in gone]
        mine = set(await self.leases.claim(wanted, now, now + self.lease))
        try:
            return await self._flush_claimed(mine, now, only_immediate)
        finally:
            await self.leases.release(mine)

    async def _flush_claimed(
        self, mine: set[str], now: datetime, only_immediate: bool
    ) -> list[SendReport]:
        """Close the due periods of the subscribers this replica holds, and send their due
        digests: another replica never forms or sends one of theirs meanwhile."""
        for subscriber in self.subscribers.values():
            if (only_immediate and not subscriber.digest.immediate) or subscriber.name not in mine:
                continue
            start = await self.outbox.period_start(subscriber.name)
            if start is not None and subscriber.digest.is_due(start, now, self.zone):
                await self.outbox.close_period(subscriber.name, now, subscriber.max_items)
        sendable = (self.notifiers.keys() & mine) - await self.outbox.disabled()
        due = [(d, s) for d, s in await self.outbox.due(now) if s in sendable]
        # one slow receiver must not hold the others: subscribers are served concurrently
        by_subscriber: dict[str, list[str]] = {}
        for digest_id, name in due:
            by_subscriber.setdefault(name, []).append(digest_id)
        # every send finishes (and is recorded) before the lock is released, even if one fails
        results = await asyncio.gather(
            *(self._send_all(ids) for ids in by_subscriber.values()), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [report for reports in results if isinstance(reports, list) for report in reports]

    async def _send_all(self, digest_ids: list[str]) -> list[SendReport]:
        reports = []
        for digest_id in digest_ids:
            report = await self.send(digest_id)
            reports.append(report)
            if report.result != "sent":
                break  # keep the order of digests; the rest wait for this one's retry
        return reports

    async def send(self, digest_id: str) -> SendReport:
        digest = await self.outbox.load(digest_id)
        notifier = self.notifiers[digest.subscriber]
        now = self.clock  # read again after each await: a send can take a while
        try:
            await notifier.send(digest)
        except ReceiverGone as exc:
            # the receiver asked us to stop: hold everything (nothing is dropped) until the
            # subscriber's address changes in the configuration
            await self.outbox.mark_failed(digest_id, now(), str(exc), permanent=False)
            await self.outbox.disable(digest.subscriber, now(), str(exc))
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
        await self.outbox.mark_sent(digest_id, now())
        return self._report(digest, "sent")

    def _report(
        self, digest: Digest, result: str, level: int = logging.INFO, error: str | None = None
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
