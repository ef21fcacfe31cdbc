"""Settings (monitor.store.settings): values shared by the replicas, and turns of the
once-per-cluster jobs, on both stores."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import open_engine
from monitor.store.settings import setting, take_turn


async def test_the_first_writer_s_value_stays(engine: AsyncEngine) -> None:
    assert await setting(engine, "key", "one") == "one"
    assert await setting(engine, "key", "two") == "one"


async def test_two_replicas_asking_together_one_takes_each_turn(storage: str) -> None:
    engines = [await open_engine(storage), await open_engine(storage)]
    try:
        for day in range(20_400, 20_410):
            asked = await asyncio.gather(*(take_turn(e, "job", day) for e in engines))
            assert sorted(asked) == [False, True], day
            # asked again the same day, by either: taken
            assert not await take_turn(engines[day % 2], "job", day)
        # a replica whose clock is behind does not take a past turn again
        assert not await take_turn(engines[0], "job", 20_405)
        # another job's turns are its own
        assert await take_turn(engines[1], "other", 20_405)
    finally:
        for engine in engines:
            await engine.dispose()
