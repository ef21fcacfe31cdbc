"""A store to write polls into: sources a and b, rule ia, items and poll outcomes, counts,
and an empty database at an older schema version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Table,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.config.sources import FeedSourceConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.models import Delivery, Item, Match, PollOutcome
from monitor.store import engine_url
from monitor.store.engines import migration_engine
from monitor.store.schema import MIGRATIONS

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


IA = Match("ia", ("IA",))


def config(urls: dict[str, str] | None = None, subs: tuple[str, ...] = ("s1", "s2")) -> Config:
    urls = urls or {"a": "https://a.ma/feed", "b": "https://b.ma/feed"}
    return Config(
        sources=[FeedSourceConfig(name=n, url=u) for n, u in urls.items()],
        rules=[RuleConfig(name="ia", any=["IA"])],
        subscribers=[SubscriberConfig(name=n, console=True) for n in subs],
    )


def item(source: str, key: str, link: str | None = None) -> Item:
    return Item(
        source=source,
        key=key,
        link=f"https://{source}.ma/{key}" if link is None else link,
        title=f"Title {key}",
        summary="s",
        content="c",
        published=T0,
    )


def outcome(
    source: str,
    found: tuple[Item, ...] = (),
    at: datetime = T0,
    subs: tuple[str, ...] = ("s1", "s2"),
    result: Literal["ok", "not-modified", "unchanged"] = "ok",
) -> PollOutcome:
    return PollOutcome(
        source=source,
        at=at,
        result=result,
        status=200,
        etag='"e1"',
        last_modified="lm",
        content_hash="h1",
        next_due_at=at + timedelta(minutes=15),
        items=found,
        matches={i.key: (IA,) for i in found},
        deliveries=tuple(Delivery(s, i.key, ("ia",), {"ia": ("IA",)}) for i in found for s in subs),
    )


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


def migrate(direction: str, revision: str) -> Callable[[Connection], None]:
    """Alembic upgrade or downgrade to ``revision``, on the connection it is run with."""

    def run(connection: Connection) -> None:
        settings = AlembicConfig()
        settings.set_main_option("script_location", str(MIGRATIONS))
        settings.attributes["connection"] = connection
        getattr(command, direction)(settings, revision)

    return run


async def at_revision(storage: str, revision: str) -> None:
    """Make the empty store ``storage`` a store of schema ``revision``, as an older monitor
    left it."""
    engine = migration_engine(engine_url(storage))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(migrate("upgrade", revision))
    finally:
        await engine.dispose()
