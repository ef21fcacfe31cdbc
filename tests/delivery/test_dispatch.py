"""The dispatcher on a real SQLite file with a fake clock and a recording notifier."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.schedule import parse_schedule
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import PermanentNotifyError, TransientNotifyError
from monitor.core.models import Digest, Item
from monitor.delivery.dispatch import Dispatcher, SendReport
from monitor.notifiers.base import Notifier
from monitor.store.outbox import MAX_DELAY, Outbox
from monitor.store.standing import Standing
from tests.support.dispatch import CASA, T0, Senders
from tests.support.outbox_helpers import open_synced, record_owed
from tests.support.peers import FakeClock

SUBSCRIBERS = (
    SubscriberConfig(name="now", console=True, digest=parse_schedule("immediate")),
    SubscriberConfig(name="morning", console=True, digest=parse_schedule("daily 08:00")),
)


class RecordingNotifier:
    """A test double of our Notifier protocol: records what it accepted, raises when told."""

    def __init__(self) -> None:
        self.attempts: list[str] = []  # digest ids, every call
        self.accepted: list[Digest] = []
        self.failures: list[Exception] = []  # raised by the next calls, in order
        self.meanwhile: list[Callable[[], Awaitable[object]]] = []  # run by the next calls

    async def send(self, digest: Digest) -> None:
        self.attempts.append(digest.id)
        if self.meanwhile:  # something else happens while this delivery is in flight
            await self.meanwhile.pop(0)()
        for _ in range(5):  # give a concurrent flush every chance to interleave
            await asyncio.sleep(0)
        if self.failures:
            raise self.failures.pop(0)
        self.accepted.append(digest)


@pytest.fixture
async def engine(storage: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_synced(storage, SUBSCRIBERS, T0)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def notifiers() -> dict[str, RecordingNotifier]:
    return {s.name: RecordingNotifier() for s in SUBSCRIBERS}


def dispatcher(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> Dispatcher:
    senders: dict[str, Notifier] = dict(notifiers)
    runtime = Senders({s.name: s for s in SUBSCRIBERS}, senders, CASA)
    return Dispatcher(lambda: runtime, Outbox(engine), clock)


async def owe(engine: AsyncEngine, keys: list[str], at: datetime) -> None:
    """Record items of source ``a`` owed to every subscriber."""
    found = tuple(
        Item("a", k, f"https://a.ma/{k}", f"Title {k}", "", "", at - timedelta(minutes=1))
        for k in keys
    )
    await record_owed(engine, found, [s.name for s in SUBSCRIBERS], at)


def titles(digest: Digest) -> list[str]:
    return sorted(i.title for i in digest.items)


def results(reports: list[SendReport]) -> list[tuple[str, int, str]]:
    return sorted((r.subscriber, r.items, r.result) for r in reports)


@pytest.mark.slow
async def test_immediate_gets_one_digest_per_flush_with_pending_rows(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    flush = dispatcher(engine, clock, notifiers).flush
    assert await flush() == []
    await owe(engine, ["k1", "k2"], clock())
    assert results(await flush()) == [("now", 2, "sent")]
    assert await flush() == []  # nothing new, nothing sent
    clock.advance(timedelta(minutes=1))
    await owe(engine, ["k3"], clock())
    assert results(await flush()) == [("now", 1, "sent")]
    first, second = notifiers["now"].accepted
    assert (titles(first), titles(second)) == (["Title k1", "Title k2"], ["Title k3"])
    assert first.id != second.id
    assert notifiers["morning"].attempts == []


async def test_daily_digest_waits_for_its_hour_and_comes_once_after_downtime(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    flush = dispatcher(engine, clock, notifiers).flush
    await owe(engine, ["k1"], clock())
    clock.now = datetime(2026, 11, 27, 6, 59, tzinfo=UTC)  # 07:59 in Casablanca
    assert results(await flush()) == [("now", 1, "sent")]
    clock.now = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 08:00 in Casablanca
    assert results(await flush()) == [("morning", 1, "sent")]
    assert await flush() == []
    await owe(engine, ["k2", "k3"], clock() + timedelta(minutes=30))
    clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # three mornings missed
    assert results(await flush()) == [("morning", 2, "sent"), ("now", 2, "sent")]
    assert await flush() == []
    morning = notifiers["morning"].accepted
    assert [titles(d) for d in morning] == [["Title k1"], ["Title k2", "Title k3"]]
    clock.now = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert await flush() == []  # a period with nothing owed sends nothing
    assert len(notifiers["morning"].attempts) == 2


async def test_only_immediate_leaves_scheduled_periods_open(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    flush = dispatcher(engine, clock, notifiers).flush
    await owe(engine, ["k1"], clock())
    clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert results(await flush(only_immediate=True)) == [("now", 1, "sent")]
    assert results(await flush()) == [("morning", 1, "sent")]


async def test_transient_failure_is_retried_with_the_same_digest(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    flush, now = dispatcher(engine, clock, notifiers).flush, notifiers["now"]
    now.failures = [TransientNotifyError("503 from receiver")]
    await owe(engine, ["k1"], clock())
    assert results(await flush()) == [("now", 1, "retry")]
    assert await flush() == []  # the retry is not due yet
    clock.advance(timedelta(minutes=1))
    assert results(await flush()) == [("now", 1, "sent")]
    clock.advance(MAX_DELAY * 2)
    assert await flush() == []
    assert len(now.attempts) == 2 and now.attempts[0] == now.attempts[1]
    assert [d.id for d in now.accepted] == now.attempts[:1]
    [status] = await Standing(engine).status(["now"])
    assert (status.pending, status.failed, status.sent, status.dead) == (0, 0, 1, 0)


async def test_permanent_failure_goes_dead_and_is_not_retried(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    flush, now = dispatcher(engine, clock, notifiers).flush, notifiers["now"]
    now.failures = [PermanentNotifyError("410 gone")]
    await owe(engine, ["k1", "k2"], clock())
    assert results(await flush()) == [("now", 2, "dead")]
    for _ in range(3):
        clock.advance(MAX_DELAY * 2)
        assert await flush() == []
    assert len(now.attempts) == 1 and now.accepted == []
    [status] = await Standing(engine).status(["now"])
    assert (status.pending, status.dead, status.last_error) == (0, 2, "410 gone")


async def test_concurrent_flushes_never_send_a_digest_twice(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    flush = dispatcher(engine, clock, notifiers).flush
    await owe(engine, ["k1", "k2"], clock())
    clock.now = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # both subscribers are due
    first, second = await asyncio.gather(flush(), flush())
    assert results(first + second) == [("morning", 2, "sent"), ("now", 2, "sent")]
    for notifier in notifiers.values():
        assert len(notifier.attempts) == 1 and len(notifier.accepted) == 1


async def test_two_dispatchers_over_one_store_never_send_a_digest_twice(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    first, second = (dispatcher(engine, clock, notifiers) for _ in range(2))
    await owe(engine, ["k1"], clock())
    notifiers["now"].meanwhile = [second.flush]  # replica 2 flushes while replica 1 delivers
    assert results(await first.flush()) == [("now", 1, "sent")]
    assert len(notifiers["now"].attempts) == 1


async def test_a_daily_digest_fires_once_across_replicas_flushing_together(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    replicas = [dispatcher(engine, clock, notifiers) for _ in range(3)]
    await owe(engine, ["k1", "k2"], clock())
    clock.now = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 08:00 in Casablanca, for all three
    await asyncio.gather(*(r.flush() for r in replicas))
    await asyncio.gather(*(r.flush() for r in replicas))  # and again, once the leases are free
    morning = notifiers["morning"]
    assert len(morning.attempts) == 1
    assert [titles(d) for d in morning.accepted] == [["Title k1", "Title k2"]]
    assert len(notifiers["now"].attempts) == 1


async def test_a_notifier_bug_does_not_lose_the_digest(
    engine: AsyncEngine,
    clock: FakeClock,
    notifiers: dict[str, RecordingNotifier],
    caplog: pytest.LogCaptureFixture,
) -> None:
    flush, now = dispatcher(engine, clock, notifiers).flush, notifiers["now"]
    now.failures = [RuntimeError("bug in a notifier")]
    await owe(engine, ["k1"], clock())
    with caplog.at_level(logging.ERROR, logger="monitor"):
        assert results(await flush()) == [("now", 1, "retry")]
    assert [r.getMessage() for r in caplog.records] == ["notifier-bug"]
    clock.advance(timedelta(minutes=1))
    assert results(await flush()) == [("now", 1, "sent")]
    assert [titles(d) for d in now.accepted] == [["Title k1"]]
    assert now.accepted[0].id == now.attempts[0]


async def test_later_digests_wait_for_an_earlier_failing_one(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    outbox, now = Outbox(engine), notifiers["now"]
    await owe(engine, ["k1"], clock())
    older = await outbox.close_period("now", clock())
    clock.advance(timedelta(seconds=1))
    await owe(engine, ["k2"], clock())
    now.failures = [TransientNotifyError("timeout")]
    assert results(await dispatcher(engine, clock, notifiers).flush()) == [("now", 1, "retry")]
    assert now.attempts == [older]  # the newer digest was not sent ahead of it
    clock.advance(timedelta(minutes=1))
    assert results(await dispatcher(engine, clock, notifiers).flush()) == [
        ("now", 1, "sent"),
        ("now", 1, "sent"),
    ]
    assert [titles(d) for d in now.accepted] == [["Title k1"], ["Title k2"]]


async def test_digests_without_a_notifier_wait(
    engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, RecordingNotifier]
) -> None:
    del notifiers["now"]
    await owe(engine, ["k1"], clock())
    assert await dispatcher(engine, clock, notifiers).flush() == []
    assert len(await Outbox(engine).due(clock())) == 1  # still owed, for when it comes back
