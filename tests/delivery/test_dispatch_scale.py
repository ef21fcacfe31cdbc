"""The dispatcher with many subscribers (issue 7, delivery): periods closed together, digests
loaded and marked sent in shared transactions, sends bounded, each still recorded on its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.schedule import parse_schedule
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import StoreError, TransientNotifyError
from monitor.core.models import Digest, Item
from monitor.delivery.dispatch import Dispatcher
from monitor.notifiers.base import Notifier
from monitor.store.outbox import Outbox
from monitor.store.tables import digests, outbox
from tests.support.dispatch import CASA, T0, Senders
from tests.support.outbox_helpers import open_synced, record_owed
from tests.support.peers import FakeClock
from tests.support.writer import commits

MANY = tuple(
    SubscriberConfig(name=f"s{n:03}", console=True, digest=parse_schedule("immediate"), max_items=2)
    for n in range(150)
)


class Gate:
    """A notifier double that counts the sends in flight at once, and fails for some."""

    def __init__(self, failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.failing = failing
        self.busy = 0
        self.most = 0
        self.accepted: list[Digest] = []

    async def send(self, digest: Digest) -> None:
        self.busy += 1
        self.most = max(self.most, self.busy)
        try:
            await asyncio.sleep(0.001)
            if digest.subscriber in self.failing:
                raise TransientNotifyError(f"{digest.subscriber}: busy")
            self.accepted.append(digest)
        finally:
            self.busy -= 1


@pytest.fixture
async def engine(storage: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_synced(storage, MANY, T0)
    yield engine
    await engine.dispose()


async def owe(engine: AsyncEngine, count: int) -> None:
    found = tuple(
        Item("a", f"k{n}", f"https://a.ma/{n}", f"IA {n}", "", "", T0 - timedelta(minutes=n))
        for n in range(count)
    )
    await record_owed(engine, found, [s.name for s in MANY], T0)


def dispatcher(engine: AsyncEngine, gate: Gate, concurrency: int = 100) -> Dispatcher:
    senders: dict[str, Notifier] = {s.name: gate for s in MANY}
    runtime = Senders({s.name: s for s in MANY}, senders, CASA)
    return Dispatcher(lambda: runtime, Outbox(engine), FakeClock(T0), concurrency=concurrency)


async def test_many_subscribers_cost_a_few_transactions_not_a_few_each(
    engine: AsyncEngine,
) -> None:
    await owe(engine, 3)  # three items each, two a digest: 300 digests in two rounds
    gate = Gate()
    flush = dispatcher(engine, gate, concurrency=40).flush
    committed = commits(engine)
    reports = await flush()
    assert len(reports) == 150 and {r.result for r in reports} == {"sent"}
    # leases, periods and marks: a handful of transactions for 150 subscribers, not 300
    assert committed[0] <= 20
    assert gate.most == 40  # sends were bounded, and did run side by side
    assert {len(d.items) for d in gate.accepted} == {2}
    assert {d.waiting for d in gate.accepted} == {1}  # the third item, owed next
    reports = await flush()
    assert len(reports) == 150 and {len(d.items) for d in gate.accepted[150:]} == {1}
    async with engine.connect() as conn:
        query = select(outbox.c.state, func.count()).group_by(outbox.c.state)
        states: dict[str, int] = {state: n for state, n in await conn.execute(query)}
        sent = await conn.scalar(select(func.count()).where(digests.c.state == "sent"))
    assert states == {"sent": 450} and sent == 300


@pytest.mark.slow
async def test_failures_are_recorded_one_by_one_beside_shared_marks(engine: AsyncEngine) -> None:
    await owe(engine, 1)
    failing = {s.name for s in MANY[::10]}
    gate = Gate(failing)
    reports = await dispatcher(engine, gate).flush()
    assert sorted(r.subscriber for r in reports if r.result == "retry") == sorted(failing)
    assert len([r for r in reports if r.result == "sent"]) == 150 - len(failing)
    async with engine.connect() as conn:
        retried = await conn.scalar(
            select(func.count()).where(digests.c.state == "pending", digests.c.attempts == 1)
        )
    assert retried == len(failing)


async def test_a_digest_missing_from_the_store_fails_alone(engine: AsyncEngine) -> None:
    await owe(engine, 1)
    box = Outbox(engine)
    formed = await box.close_periods({s.name: s.max_items for s in MANY[:3]}, T0)
    gate = Gate()
    sender = dispatcher(engine, gate)
    notifiers = sender.runtime().notifiers
    results = await asyncio.gather(
        sender.send(notifiers, formed["s000"]), sender.send(notifiers, "dg_nowhere"),
        sender.send(notifiers, formed["s001"]), return_exceptions=True,
    )  # fmt: skip
    assert [type(r).__name__ for r in results] == ["SendReport", "StoreError", "SendReport"]
    assert isinstance(results[1], StoreError) and "dg_nowhere" in str(results[1])
    assert sorted(d.subscriber for d in gate.accepted) == ["s000", "s001"]


async def test_close_periods_forms_one_digest_each_within_each_limit(engine: AsyncEngine) -> None:
    await owe(engine, 5)
    box = Outbox(engine)
    limits: dict[str, int | None] = {"s000": 2, "s001": None, "s002": 5}
    formed = await box.close_periods(limits, T0 + timedelta(hours=1))
    assert sorted(formed) == ["s000", "s001", "s002"] and len(set(formed.values())) == 3
    loaded = {d.id: d for d in await box.load_many(list(formed.values()))}
    sizes = {loaded[d].subscriber: (len(loaded[d].items), loaded[d].waiting) for d in loaded}
    assert sizes == {"s000": (2, 3), "s001": (5, 0), "s002": (5, 0)}
    # the oldest queued first: items were queued k0 … k4
    assert [i.title for i in loaded[formed["s000"]].items] == ["IA 0", "IA 1"]
    starts = await box.period_starts(["s000", "s003", "nobody"])
    assert starts == {"s000": T0 + timedelta(hours=1), "s003": T0}
    # nothing more owed to s001 and s002: no digest, but their periods end
    again = await box.close_periods({"s000": 2, "s001": 2}, T0 + timedelta(hours=2))
    assert list(again) == ["s000"]
    assert (await box.period_starts(["s001"]))["s001"] == T0 + timedelta(hours=2)
    assert await box.close_periods({}, T0) == {}
