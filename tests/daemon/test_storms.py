"""Alert storms: at most max_items per digest, the rest in the next ones, nothing lost or sent
twice; after downtime, one digest per period. Real SQLite file, fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.schedule import parse_schedule
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import TransientNotifyError
from monitor.core.models import Digest, Item
from monitor.delivery.dispatch import Dispatcher
from monitor.digest.render import Renderer
from monitor.notifiers.base import Notifier
from monitor.store import outbox as outbox_module
from monitor.store.outbox import Outbox
from tests.support.dispatch import Senders
from tests.support.outbox_helpers import open_synced, record_owed
from tests.support.peers import FakeClock

CASA = ZoneInfo("Africa/Casablanca")  # UTC+1 in November 2026
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SUBSCRIBERS = (
    SubscriberConfig(name="now", console=True, max_items=50),
    SubscriberConfig(name="morning", console=True, digest=parse_schedule("daily 08:00")),
)


class Recorder:
    """Our Notifier protocol's test double: keeps what it accepted, fails when told."""

    def __init__(self) -> None:
        self.accepted: list[Digest] = []
        self.failures: list[Exception] = []

    async def send(self, digest: Digest) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.accepted.append(digest)


@pytest.fixture
async def engine(storage: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_synced(storage, SUBSCRIBERS, T0)
    yield engine
    await engine.dispose()


async def owe(engine: AsyncEngine, first: int, count: int, at: datetime) -> None:
    """Queue items ``first`` … ``first+count-1`` for every subscriber, in that order."""
    found = tuple(
        Item("a", f"k{n:04d}", f"https://a.ma/{n}", f"T{n:04d}", "", "", at - timedelta(days=1))
        for n in range(first, first + count)
    )
    await record_owed(engine, found, [s.name for s in SUBSCRIBERS], at)


def titles(digest: Digest) -> list[str]:
    return sorted(item.title for item in digest.items)


def expected(first: int, count: int) -> list[str]:
    return [f"T{n:04d}" for n in range(first, first + count)]


@pytest.mark.parametrize(
    ("owed", "max_items", "sizes"),
    [(250, 50, [50] * 5), (7, 3, [3, 3, 1]), (3, 50, [3]), (50, 50, [50])],
)
async def test_a_storm_drains_in_successive_digests_of_max_items(
    engine: AsyncEngine, owed: int, max_items: int, sizes: list[int]
) -> None:
    box, clock = Outbox(engine), FakeClock(T0)
    await owe(engine, 0, owed, clock())
    seen: list[str] = []
    for size in sizes:
        clock.advance(timedelta(hours=1))
        digest_id = await box.close_period("now", clock(), max_items)
        assert digest_id is not None
        digest = await box.load(digest_id)
        assert titles(digest) == expected(len(seen), size)  # the oldest owed first
        assert digest.waiting == owed - len(seen) - size  # "N more articles waiting"
        seen += titles(digest)
        await box.mark_sent(digest_id, clock())
    assert await box.close_period("now", clock(), max_items) is None
    assert seen == expected(0, owed)  # every item once: nothing lost, none duplicated


async def test_items_arriving_during_a_storm_wait_their_turn(engine: AsyncEngine) -> None:
    box, clock = Outbox(engine), FakeClock(T0)
    await owe(engine, 0, 120, clock())
    first = await box.close_period("now", clock(), 50)
    clock.advance(timedelta(minutes=5))
    await owe(engine, 1000, 30, clock())
    assert first is not None and (await box.load(first)).waiting == 70 + 30
    second = await box.close_period("now", clock(), 50)
    assert second is not None
    assert titles(await box.load(second)) == expected(50, 50)  # older ones before newer ones
    third = await box.close_period("now", clock(), 50)
    assert third is not None
    assert titles(await box.load(third)) == expected(100, 20) + expected(1000, 30)


async def test_a_failing_storm_digest_keeps_its_items_and_the_rest_still_wait(
    engine: AsyncEngine,
) -> None:
    box, clock = Outbox(engine), FakeClock(T0)
    await owe(engine, 0, 100, clock())
    failing = await box.close_period("now", clock(), 50)
    assert failing is not None
    assert not await box.mark_failed(failing, clock(), "timeout", permanent=False)
    following = await box.close_period("now", clock(), 50)
    assert following is not None
    assert titles(await box.load(failing)) == expected(0, 50)  # the same digest on retry
    assert titles(await box.load(following)) == expected(50, 50)  # not taken twice
    assert (await box.load(following)).waiting == 50  # the failing one's items still wait


async def test_preview_shows_the_next_digest_and_what_waits(engine: AsyncEngine) -> None:
    box = Outbox(engine)
    await owe(engine, 0, 80, T0)
    preview = await box.preview("now", T0, 50)
    assert (titles(preview), preview.waiting) == (expected(0, 50), 30)
    assert len((await box.preview("now", T0)).items) == 80
    assert await box.close_period("now", T0, 50) is not None  # the preview formed nothing
    assert (await box.load((await box.due(T0))[0][0])).waiting == 30


async def test_a_backlog_is_counted_up_to_a_bound(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest reads at most WAITING_COUNTED + 1 rows of what else is owed: past that its
    "waiting" says "more than" (a backlog of millions was counted whole at each send)."""
    monkeypatch.setattr(outbox_module, "WAITING_COUNTED", 20)
    box = Outbox(engine)
    await owe(engine, 0, 100, T0)
    first = await box.close_period("now", T0, 10)
    assert first is not None and (await box.load(first)).waiting == 21  # 90 owed: over 20
    assert (await box.preview("now", T0, 10)).waiting == 21
    assert not await box.mark_failed(first, T0, "timeout", permanent=False)
    retried = []
    for _ in range(8):  # 80 of the 90 in digests being retried, 10 unassigned
        formed = await box.close_period("now", T0, 10)
        assert formed is not None
        assert not await box.mark_failed(formed, T0, "timeout", permanent=False)
        retried.append(formed)
    assert (await box.load(first)).waiting == 21  # 80 in the others and 10: over 20
    for digest_id in retried[:7]:
        await box.mark_sent(digest_id, T0)
    assert (await box.load(first)).waiting == 20  # 10 in the last retried one, 10 unassigned
    assert (await box.load(retried[7])).waiting == 20  # the first's 10 and the 10 unassigned


def dispatcher(engine: AsyncEngine, clock: FakeClock, notifiers: dict[str, Recorder]) -> Dispatcher:
    senders: dict[str, Notifier] = dict(notifiers)
    runtime = Senders({s.name: s for s in SUBSCRIBERS}, senders, CASA)
    return Dispatcher(lambda: runtime, Outbox(engine), clock)


async def test_the_dispatcher_sends_a_storm_in_digests_of_max_items(engine: AsyncEngine) -> None:
    """250 owed, max_items 50: five successive digests, each saying how many still wait."""
    clock, notifiers = FakeClock(T0), {s.name: Recorder() for s in SUBSCRIBERS}
    flush = dispatcher(engine, clock, notifiers).flush
    await owe(engine, 0, 250, clock())
    notifiers["now"].failures = [TransientNotifyError("503")]
    for _ in range(8):  # one flush per minute; the failed one is retried, nothing is skipped
        await flush()
        clock.advance(timedelta(minutes=1))
    accepted = notifiers["now"].accepted
    assert [len(d.items) for d in accepted] == [50] * 5
    assert [d.waiting for d in accepted] == [200, 150, 100, 50, 0]
    assert sorted(t for d in accepted for t in titles(d)) == expected(0, 250)
    renderer = Renderer(CASA)
    assert "200 autres articles en attente" in renderer.text(accepted[0])
    assert "attente" not in renderer.text(accepted[-1])
    english = Renderer(CASA, language="en")
    assert "150 more articles waiting" in english.html(accepted[1])


async def test_after_downtime_one_digest_per_period_not_one_per_missed_period(
    engine: AsyncEngine,
) -> None:
    clock, notifiers = FakeClock(T0), {s.name: Recorder() for s in SUBSCRIBERS}
    flush = dispatcher(engine, clock, notifiers).flush
    morning = notifiers["morning"].accepted
    await owe(engine, 0, 250, clock())
    clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # four 08:00s missed while down
    await flush()
    assert len(morning) == 1
    for _ in range(3):  # further ticks in the same period send nothing more
        clock.advance(timedelta(minutes=10))
        await flush()
    assert len(morning) == 1
    clock.now = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # the next 08:00 in Casablanca
    await flush()
    await flush()
    assert len(morning) <= 2 and morning[0].created == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    sent = [t for d in morning for t in titles(d)]
    assert len(sent) == len(set(sent))  # none twice
    assert (
        len(sent)
        + (await Outbox(engine).preview("morning", clock())).waiting
        + len((await Outbox(engine).preview("morning", clock())).items)
        == 250
    )  # nothing lost: sent, or still owed
