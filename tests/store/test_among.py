"""monitor.store.among on each store: a list of names, and rows, bound as one parameter
whatever their number (PostgreSQL refuses a statement of more than 32,767)."""

from __future__ import annotations

from sqlalchemy import insert, not_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import reading, transaction
from monitor.store.among import one_of, rows_of
from monitor.store.tables import sources
from tests.support.statements import every_statement

ODD = ["l'été", 'a "quoted" name', "back\\slash", "عربي", "%_"]  # text JSON or SQL might mangle


async def test_one_of_binds_any_number_of_names_as_one(engine: AsyncEngine) -> None:
    names = [f"s{n}" for n in range(4)] + ODD
    async with transaction(engine) as conn:
        rows = [{"name": name, "url": "https://x.ma/", "config_key": "k"} for name in names]
        await conn.execute(insert(sources), rows)
    asked = [*ODD, "s2", *(f"absent{n}" for n in range(40_000))]
    named = select(sources.c.name)
    with every_statement() as ran:
        async with reading(engine) as conn:
            found = (await conn.scalars(named.where(one_of(sources.c.name, asked)))).all()
            others = (await conn.scalars(named.where(not_(one_of(sources.c.name, asked))))).all()
            none = (await conn.scalars(named.where(one_of(sources.c.name, [])))).all()
    assert sorted(found) == sorted([*ODD, "s2"])
    assert sorted(others) == ["s0", "s1", "s3"]
    assert none == []
    assert max(one.parameters for one in ran) == 1


async def test_rows_of_reads_back_what_was_bound(engine: AsyncEngine) -> None:
    rows = [(name, f"https://x.ma/{n}", str(n)) for n, name in enumerate([*ODD, "plain"])]
    given = rows_of(engine.dialect.name, ["a", "b", "c"], rows)
    async with reading(engine) as conn:
        back = (await conn.execute(select(given.c.a, given.c.b, given.c.c))).all()
    assert sorted(tuple(row) for row in back) == sorted(rows)
