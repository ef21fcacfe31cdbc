"""A store in store mode (``sources_from: store``) holding two sources, ``a`` tagged maroc and
``b`` untagged, each with an item about IA: what the features reading sources' tags from their
stored definitions are tested on."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import TypeAdapter
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.sources import SourceConfig
from monitor.store import transaction
from monitor.store.definitions import Definitions
from monitor.store.tables import items

_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)
TITLES = {"a": "IA au Maroc", "b": "IA ailleurs"}


async def seed_tagged(engine: AsyncEngine, now: datetime, more: int = 0) -> None:
    """Sources a (tag maroc) and b, their items seen a day before ``now``; ``more`` untagged
    sources besides (c0, c1…), each with an item too."""
    given = [
        _ADAPTER.validate_python({"name": "a", "url": "https://a.ma/f", "tags": ["maroc"]}),
        _ADAPTER.validate_python({"name": "b", "url": "https://b.ma/f"}),
        *(
            _ADAPTER.validate_python({"name": f"c{n}", "url": f"https://c.ma/{n}"})
            for n in range(more)
        ),
    ]
    await Definitions(engine).load(given, now)
    titles = TITLES | {f"c{n}": f"IA {n}" for n in range(more)}
    rows = [
        {"source": name, "key": name, "article": name, "link": f"https://x.ma/{name}",
         "title": title, "summary": "", "content": "", "seen_at": now - timedelta(days=1)}
        for name, title in titles.items()
    ]  # fmt: skip
    async with transaction(engine) as conn:
        await conn.execute(insert(items), rows)
