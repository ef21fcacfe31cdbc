"""Setting up the store for outbox and dispatcher tests: one source ``a`` with a rule ``ia``,
and items recorded as owed to subscribers, through the store's real one-transaction write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.config.sources import FeedSourceConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.models import Delivery, Item, Match, PollOutcome
from monitor.store import open_engine
from monitor.store.sources import SourceStore


async def open_synced(
    storage: str, subscribers: Sequence[SubscriberConfig], at: datetime
) -> AsyncEngine:
    """The empty store ``storage``, opened, knowing source ``a``, rule ``ia`` and these
    subscribers."""
    engine = await open_engine(storage)
    config = Config(
        sources=[FeedSourceConfig(name="a", url="https://a.ma/feed")],
        rules=[RuleConfig(name="ia", any=["IA"])],
        subscribers=list(subscribers),
    )
    await SourceStore(engine).sync(config, at)
    return engine


async def record_owed(
    engine: AsyncEngine, found: Sequence[Item], subscribers: Sequence[str], at: datetime
) -> None:
    """Record ``found`` as new items of source ``a``, matched by ``ia`` and owed to each of
    ``subscribers``."""
    await SourceStore(engine).record(
        [
            PollOutcome(
                source="a",
                at=at,
                result="ok",
                status=200,
                etag=None,
                last_modified=None,
                content_hash=None,
                next_due_at=at,
                items=tuple(found),
                matches={i.key: (Match("ia", ("IA",)),) for i in found},
                deliveries=tuple(
                    Delivery(s, i.key, ("ia",), {"ia": ("IA",)}) for i in found for s in subscribers
                ),
            )
        ]
    )
