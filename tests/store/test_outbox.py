"""The outbox on a real SQLite file: digests formed once, retried with backoff, dead-lettered."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.config.sources import FeedSourceConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.models import Item
from monitor.store import open_engine
from monitor.store.outbox import BASE_DELAY, MAX_ATTEMPTS, MAX_DELAY, Outbox, retry_delay
from monitor.store.sources import SourceStore
from monitor.store.standing import Standing
from monitor.store.tables import digests, outbox
from tests.support.outbox_helpers import record_owed
from tests.support.peers import FakeClock

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class FixedRandom(random.Random):
    """A random source that always draws the same number, to see the jitter bounds."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.fixture
async def engine(storage: str) -> AsyncIterator[AsyncEngine]:
    engine = await open_engine(storage)
    config = Config(
        sources=[FeedSourceConfig(name="a", url="https://a.ma/feed")],
        rules=[RuleConfig(name="ia", any=["IA"])],
        subscribers=[SubscriberConfig(name=n, console=True) for n in ("s1", "s2")],
    )
    await SourceStore(engine).sync(config, T0)
    yield engine
    await engine.dispose()


async def owe(engine: AsyncEngine, keys: list[str], at: datetime, subs: tuple[str, ...]) -> None:
    """Record items of source ``a`` owed to ``subs`` (newest key published last)."""
    found = tuple(
        Item(
            source="a",
            key=k,
            link=f"https://a.ma/{k}",
            title=f"Title {k}",
            summary=f"about {k}",
            content="",
            published=at - timedelta(minutes=len(keys) - n),
        )
        for n, k in enumerate(keys)
    )
    await record_owed(engine, found, subs, at)


async def digest_row(engine: AsyncEngine, digest_id: str) -> dict[str, object]:
    async with engine.connect() as conn:
        row = (await conn.execute(select(digests).where(digests.c.id == digest_id))).mappings()
        return dict(row.one())


async def row_states(engine: AsyncEngine, subscriber: str) -> list[tuple[str | None, str]]:
    query = select(outbox.c.digest_id, outbox.c.state).where(outbox.c.subscriber == subscriber)
    async with engine.connect() as conn:
        return [(r.digest_id, r.state) for r in (await conn.execute(query.order_by(outbox.c.id)))]


async def test_close_period_groups_pending_rows_into_one_digest(engine: AsyncEngine) -> None:
    box = Outbox(engine)
    await owe(engine, ["k1", "k2", "k3"], T0, ("s1", "s2"))
    assert await box.period_start("s1") == T0
    digest_id = await box.close_period("s1", T0 + timedelta(hours=1))
    assert digest_id is not None and digest_id.startswith("dg_")
    assert await box.period_start("s1") == T0 + timedelta(hours=1)
    digest = await box.load(digest_id)
    assert (digest.id, digest.subscriber, digest.created) == (
        digest_id,
        "s1",
        T0 + timedelta(hours=1),
    )
    assert [i.title for i in digest.items] == ["Title k3", "Title k2", "Title k1"]  # newest first
    first = digest.items[0]
    assert (first.link, first.source, first.summary) == ("https://a.ma/k3", "a", "about k3")
    assert (first.rules, dict(first.terms), first.id.startswith("it_")) == (
        ("ia",),
        {"ia": ("IA",)},
        True,
    )
    assert await box.load(digest_id) == digest  # the same digest on every retry
    assert {d for d, _ in await row_states(engine, "s1")} == {digest_id}
    assert {d for d, _ in await row_states(engine, "s2")} == {None}  # not another's rows


async def test_close_period_with_nothing_pending(engine: AsyncEngine) -> None:
    box = Outbox(engine)
    assert await box.close_period("s1", T0 + timedelta(hours=1)) is None
    assert await box.period_start("s1") == T0 + timedelta(hours=1)  # the period still ends
    assert await box.due(T0 + timedelta(days=1)) == []
    assert await box.period_start("nobody") is None


async def test_later_rows_go_to_a_later_digest(engine: AsyncEngine) -> None:
    box, clock = Outbox(engine), FakeClock(T0)
    await owe(engine, ["k1"], clock(), ("s1",))
    first = await box.close_period("s1", clock())
    clock.advance(timedelta(minutes=5))
    await owe(engine, ["k2"], clock(), ("s1",))
    clock.advance(timedelta(minutes=5))
    second = await box.close_period("s1", clock())
    assert first is not None and second is not None and first != second
    assert [i.title for i in (await box.load(first)).items] == ["Title k1"]
    assert [i.title for i in (await box.load(second)).items] == ["Title k2"]
    assert await box.due(clock()) == [(first, "s1"), (second, "s1")]  # oldest first


async def test_due_respects_the_next_attempt(engine: AsyncEngine) -> None:
    box = Outbox(engine)
    await owe(engine, ["k1"], T0, ("s1",))
    digest_id = await box.close_period("s1", T0)
    assert digest_id is not None
    assert await box.due(T0 - timedelta(seconds=1)) == []
    assert await box.due(T0) == [(digest_id, "s1")]
    assert await box.mark_failed(digest_id, T0, "503 from receiver", permanent=False) is False
    row = await digest_row(engine, digest_id)
    retry_at = row["next_attempt_at"]
    assert isinstance(retry_at, datetime)
    assert T0 + BASE_DELAY * 0.8 <= retry_at <= T0 + BASE_DELAY * 1.2
    assert await box.due(retry_at - timedelta(seconds=1)) == []
    assert await box.due(retry_at) == [(digest_id, "s1")]
    assert (row["state"], row["attempts"], row["last_error"]) == ("pending", 1, "503 from receiver")


@pytest.mark.parametrize(
    ("attempts", "nominal"),
    [
        (0, BASE_DELAY),
        (1, BASE_DELAY),
        (2, 2 * BASE_DELAY),
        (3, 4 * BASE_DELAY),
        (8, 128 * BASE_DELAY),
        (9, 256 * BASE_DELAY),
        (MAX_ATTEMPTS, 2**16 * BASE_DELAY),
    ],
)
def test_retry_delay_grows_and_is_capped(attempts: int, nominal: timedelta) -> None:
    # ±20 % jitter around the doubling delay, so failing digests do not synchronise; the cap
    # applies after the jitter
    for draw, factor in ((0.5, 1.0), (0.0, 0.8)):
        assert retry_delay(attempts, FixedRandom(draw)) == min(nominal * factor, MAX_DELAY)
    draws = {retry_delay(attempts, random.Random(seed)) for seed in range(20)}
    assert all(min(nominal * 0.8, MAX_DELAY) <= d <= min(nominal * 1.2, MAX_DELAY) for d in draws)
    if nominal * 0.8 < MAX_DELAY:
        assert len(draws) > 1


async def test_permanent_failure_dead_letters_at_once(engine: AsyncEngine) -> None:
    box = Outbox(engine)
    await owe(engine, ["k1", "k2"], T0, ("s1",))
    digest_id = await box.close_period("s1", T0)
    assert digest_id is not None
    assert await box.mark_failed(digest_id, T0, "550 no such user", permanent=True) is True
    assert await box.due(T0 + timedelta(days=30)) == []
    assert await row_states(engine, "s1") == [(digest_id, "dead"), (digest_id, "dead")]
    assert (await digest_row(engine, digest_id))["state"] == "dead"


async def test_too_many_attempts_dead_letters(engine: AsyncEngine) -> None:
    box, clock = Outbox(engine), FakeClock(T0)
    await owe(engine, ["k1"], clock(), ("s1",))
    digest_id = await box.close_period("s1", clock())
    assert digest_id is not None
    results = []
    for _ in range(MAX_ATTEMPTS):
        clock.advance(MAX_DELAY * 2)
        assert await box.due(clock()) == [(digest_id, "s1")]
        results.append(await box.mark_failed(digest_id, clock(), "timeout", permanent=False))
    assert results == [False] * (MAX_ATTEMPTS - 1) + [True]
    row = await digest_row(engine, digest_id)
    assert (row["state"], row["attempts"]) == ("dead", MAX_ATTEMPTS)
    assert await box.due(clock() + MAX_DELAY * 2) == []


async def test_mark_sent_marks_the_digest_and_its_rows(engine: AsyncEngine) -> None:
    box = Outbox(engine)
    await owe(engine, ["k1", "k2"], T0, ("s1", "s2"))
    digest_id = await box.close_period("s1", T0)
    assert digest_id is not None
    await box.mark_failed(digest_id, T0, "timeout", permanent=False)
    await box.mark_sent(digest_id, T0 + timedelta(minutes=5))
    row = await digest_row(engine, digest_id)
    assert (row["state"], row["attempts"], row["sent_at"], row["last_error"]) == (
        "sent",
        2,
        T0 + timedelta(minutes=5),
        None,
    )
    assert await row_states(engine, "s1") == [(digest_id, "sent"), (digest_id, "sent")]
    assert await row_states(engine, "s2") == [(None, "pending"), (None, "pending")]
    assert await box.due(T0 + timedelta(days=1)) == []
    assert (await box.preview("s1", T0)).items == ()
    assert [i.title for i in (await box.preview("s2", T0)).items] == ["Title k2", "Title k1"]


async def test_status_counts_each_state(engine: AsyncEngine) -> None:
    box, clock = Outbox(engine), FakeClock(T0)

    async def digest_of(keys: list[str]) -> str:
        await owe(engine, keys, clock(), ("s1",))
        digest_id = await box.close_period("s1", clock())
        assert digest_id is not None
        clock.advance(timedelta(minutes=1))
        return digest_id

    sent = await digest_of(["a1", "a2"])
    await box.mark_sent(sent, clock())
    dead = await digest_of(["b1"])
    await box.mark_failed(dead, clock(), "550 rejected", permanent=True)
    retrying = await digest_of(["c1", "c2", "c3"])
    await box.mark_failed(retrying, clock(), "503 busy", permanent=False)
    await owe(engine, ["d1"], clock(), ("s1",))  # owed, no digest yet
    s1, s2 = await Standing(engine).status(["s1", "s2"])
    assert (s1.name, s1.pending, s1.failed, s1.dead, s1.sent) == ("s1", 4, 3, 1, 2)
    assert s1.last_error == "503 busy"  # the latest digest's error
    assert (s2.name, s2.pending, s2.failed, s2.dead, s2.sent, s2.last_error) == (
        "s2",
        0,
        0,
        0,
        0,
        None,
    )
    assert len((await box.preview("s1", T0)).items) == 4


async def test_a_long_error_is_truncated(engine: AsyncEngine) -> None:
    box = Outbox(engine)
    await owe(engine, ["k1"], T0, ("s1",))
    digest_id = await box.close_period("s1", T0)
    assert digest_id is not None
    await box.mark_failed(digest_id, T0, "x" * 10_000, permanent=False)
    error = (await digest_row(engine, digest_id))["last_error"]
    assert isinstance(error, str) and len(error) == 1000
