"""Group commit of polls (monitor.store.writer) on both backends: polls ending together share a
transaction, each still learns its own fate, and none is lost to a neighbour's failure or to a
cancellation."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.errors import StoreError
from monitor.core.models import News, PollFailure
from monitor.store.sources import SourceStore
from monitor.store.tables import items, matches, outbox
from monitor.store.writer import PollWriter
from tests.support.store import IA, T0, config, count, item, outcome
from tests.support.writer import commits

NAMES = [f"s{n:03}" for n in range(120)]


async def synced(engine: AsyncEngine) -> SourceStore:
    store = SourceStore(engine)
    await store.sync(config({name: f"https://{name}.ma/feed" for name in NAMES}), T0)
    return store


async def test_polls_ending_together_share_one_transaction(engine: AsyncEngine) -> None:
    store = await synced(engine)
    writer = PollWriter(store)
    committed = commits(engine)
    records = [
        outcome(name, (item(name, "k1"), item(name, "k2")), subs=("s1",))
        if n % 3 == 0
        else PollFailure(name, T0, 503, "busy", T0 + timedelta(hours=1))
        if n % 3 == 1
        else replace(outcome(name), result="not-modified", status=304, etag=None)
        for n, name in enumerate(NAMES)
    ]
    await asyncio.gather(*(writer.write(record) for record in records))
    assert committed == [1] and writer.batches == 1
    states = await store.states()
    assert [states[n].last_result for n in NAMES[:3]] == ["ok", "error", "not-modified"]
    assert {states[n].error_count for n in NAMES[1::3]} == {1}
    assert {states[n].etag for n in NAMES[2::3]} == {None}  # a 304 wrote no validator
    assert {states[n].first_poll_at for n in NAMES[::3]} == {T0}
    assert [await count(engine, t) for t in (items, matches, outbox)] == [80, 80, 80]


async def test_batches_are_bounded_and_a_lone_poll_is_written_at_once(
    engine: AsyncEngine,
) -> None:
    store = await synced(engine)
    writer = PollWriter(store, max_batch=50)
    await asyncio.gather(*(writer.write(outcome(name)) for name in NAMES))
    assert writer.batches == 3  # 120 polls: 50 + 50 + 20
    await writer.write(outcome(NAMES[0], at=T0 + timedelta(hours=1)))
    assert writer.batches == 4
    assert (await store.states())[NAMES[0]].last_poll_at == T0 + timedelta(hours=1)


async def test_a_poll_that_cannot_be_recorded_fails_alone(engine: AsyncEngine) -> None:
    store = await synced(engine)
    writer = PollWriter(store)
    good = [outcome(name, (item(name, "k1"),)) for name in NAMES[:10]]
    base = outcome("s999", (item("s999", "k1"),))
    broken = replace(base, source=NAMES[10], matches={"ghost": (IA,)})  # a match of no item
    results = await asyncio.gather(
        *(writer.write(record) for record in (*good[:5], broken, *good[5:])),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results] == ["NoneType"] * 5 + ["KeyError"] + ["NoneType"] * 5
    states = await store.states()
    assert [states[n].last_result for n in NAMES[:11]] == ["ok"] * 10 + [None]
    assert await count(engine, items) == 10


async def test_a_poll_cancelled_while_waiting_is_still_recorded(engine: AsyncEngine) -> None:
    store = await synced(engine)
    writer = PollWriter(store)
    polls = [asyncio.create_task(writer.write(outcome(n, (item(n, "k"),)))) for n in NAMES[:4]]
    await asyncio.sleep(0)  # each handed its record over
    polls[2].cancel()
    await writer.close()
    assert [p.cancelled() for p in polls] == [False, False, True, False]
    states = await store.states()
    assert [states[n].last_result for n in NAMES[:4]] == ["ok"] * 4
    assert await count(engine, items) == 4


async def test_polls_waiting_on_a_cancelled_writer_fail_instead_of_hanging(
    engine: AsyncEngine,
) -> None:
    store = await synced(engine)
    writer = PollWriter(store)
    polls = [asyncio.create_task(writer.write(outcome(n))) for n in NAMES[:3]]
    await asyncio.sleep(0)
    assert writer._task is not None
    writer._task.cancel()
    with pytest.raises(StoreError, match="poll not recorded"):
        await asyncio.wait_for(polls[0], 5)
    for poll in polls[1:]:
        with pytest.raises(StoreError):
            await asyncio.wait_for(poll, 5)


async def test_a_push_and_a_poll_of_the_same_item_record_it_once(engine: AsyncEngine) -> None:
    """A hub's delivery and a poll that both found one item (in one batch or one after the
    other): one item, one match, one delivery owed; the push leaves the poll's state alone."""
    store = await synced(engine)
    writer = PollWriter(store)
    polled = outcome(NAMES[0], (item(NAMES[0], "k1"),), subs=("s1",))
    pushed = News(polled.source, T0, polled.items, polled.matches, polled.deliveries)
    await asyncio.gather(writer.write(polled), writer.write(pushed))
    await writer.write(replace(pushed, at=T0 + timedelta(minutes=1)))
    assert [await count(engine, t) for t in (items, matches, outbox)] == [1, 1, 1]
    assert (await store.states())[NAMES[0]].last_poll_at == T0
