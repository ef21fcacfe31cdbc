"""bench/poll_log.py stays usable: on a small SQLite store it records its polls (the ring of each
source filled as the daemon fills it) and prints one line a round."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.poll_log import run
from monitor.store import open_engine
from monitor.store.tables import poll_log, sources


async def test_the_bench_records_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = await open_engine(f"sqlite:///{tmp_path}/m.db")
    try:
        await run(engine, sources=30, batch=7, runs=2)
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(poll_log)) == 90
            assert set((await conn.scalars(select(sources.c.polls))).all()) == {3}
    finally:
        await engine.dispose()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "cold, 2 new items",
        *["304, nothing new"] * 2,
    ]
    assert all("µs wall" in line for line in lines)
