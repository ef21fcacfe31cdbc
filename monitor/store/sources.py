"""Source state, seen items and the one-transaction record of a poll."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.config import Config
from monitor.models import PollOutcome, SourceState
from monitor.store import insert_ignore, reading, transaction
from monitor.store.tables import items, matches, outbox, sources, subscribers

_CHUNK = 500  # keys per IN (…) query, under every backend's parameter limit
# characters of an item's plain-text content kept (for backtests, see monitor.store.retention):
# bounds the store whatever a feed sends, and is far beyond any news article
MAX_CONTENT = 100_000
_STATE_COLUMNS = [f.name for f in fields(SourceState)]
# a poll recorded ends the lease of the replica that made it (monitor.store.leases)
_RELEASED = {"lease_owner": None, "lease_until": None}


class SourceStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def sync(self, config: Config, now: datetime) -> None:
        """Make the store know every configured source and subscriber. A URL changed in the
        configuration starts that source afresh (validators, backfill, redirects, gone), but its
        seen items stay, so nothing is alerted twice."""
        async with transaction(self.engine) as conn:
            query = select(sources.c.name, sources.c.config_url)
            known = dict((await conn.execute(query)).all())
            new = [
                {
                    "name": s.name,
                    "url": s.url,
                    "config_url": s.url,
                    "redirect_count": 0,
                    "error_count": 0,
                    "last_new_items": 0,
                    "last_matches": 0,
                }
                for s in config.sources
                if s.name not in known
            ]
            if new:
                await conn.execute(insert_ignore(self.engine, sources, new))
            for source in config.sources:
                if source.name in known and known[source.name] != source.url:
                    await conn.execute(
                        update(sources)
                        .where(sources.c.name == source.name)
                        .values(
                            url=source.url,
                            config_url=source.url,
                            etag=None,
                            last_modified=None,
                            content_hash=None,
                            first_poll_at=None,  # a new feed: backfill applies again
                            redirect_url=None,
                            redirect_count=0,
                            gone_at=None,
                            error_count=0,
                            next_due_at=None,
                        )
                    )
            await self._sync_subscribers(conn, config, now)

    async def _sync_subscribers(self, conn: AsyncConnection, config: Config, now: datetime) -> None:
        """New subscribers start their digest period now; a subscriber disabled because its
        receiver was gone, or that unsubscribed, is enabled again once its address changes."""
        if not config.subscribers:
            return
        rows = [{"name": s.name, "since": now, "target": s.target} for s in config.subscribers]
        await conn.execute(insert_ignore(self.engine, subscribers, rows))
        for sub in config.subscribers:
            await conn.execute(
                update(subscribers)
                .where(
                    subscribers.c.name == sub.name,
                    subscribers.c.target.is_distinct_from(sub.target),
                )
                .values(
                    target=sub.target, disabled_at=None, disabled_reason=None, unsubscribed_at=None
                )
            )

    async def states(self, names: Iterable[str] | None = None) -> dict[str, SourceState]:
        query = select(*(sources.c[name] for name in _STATE_COLUMNS))
        if names is not None:
            query = query.where(sources.c.name.in_(list(names)))
        async with reading(self.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return {row["name"]: SourceState(**row) for row in rows}

    async def reserve(self, due_at: Mapping[str, datetime]) -> None:
        """Set each claimed source's next due time before it is polled: if this replica dies
        during the poll, the others poll that source again no sooner than a whole interval
        after this one, not as soon as the lease expires. The poll's own record replaces it."""
        by_time: dict[datetime, list[str]] = {}
        for name, at in due_at.items():
            by_time.setdefault(at, []).append(name)
        async with transaction(self.engine) as conn:
            for at, names in by_time.items():
                await conn.execute(
                    update(sources).where(sources.c.name.in_(names)).values(next_due_at=at)
                )

    async def seen(self, source: str, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        async with reading(self.engine) as conn:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                query = select(items.c.key).where(items.c.source == source, items.c.key.in_(chunk))
                found.update((await conn.execute(query)).scalars())
        return found

    async def record_success(self, outcome: PollOutcome) -> None:
        async with transaction(self.engine) as conn:
            values: dict[str, object] = {
                **_RELEASED,
                "last_poll_at": outcome.at,
                "next_due_at": outcome.next_due_at,
                "error_count": 0,
                "last_result": outcome.result,
                "last_status": outcome.status,
                "last_error": None,
                "last_new_items": len(outcome.items),
                "last_matches": sum(len(m) for m in outcome.matches.values()),
            }
            if outcome.result != "not-modified":
                values |= {
                    "etag": outcome.etag,
                    "last_modified": outcome.last_modified,
                    "content_hash": outcome.content_hash,
                }
            if outcome.location is not None:
                values |= {
                    "url": outcome.location.url,
                    "redirect_url": outcome.location.redirect_url,
                    "redirect_count": outcome.location.redirect_count,
                }
            # the first poll's time is kept: one statement, not a second one for the first poll
            values["first_poll_at"] = func.coalesce(sources.c.first_poll_at, outcome.at)
            await conn.execute(
                update(sources).where(sources.c.name == outcome.source).values(values)
            )
            if outcome.items:
                await self._record_items(conn, outcome)

    async def _record_items(self, conn: AsyncConnection, outcome: PollOutcome) -> None:
        rows = [
            {
                "source": i.source,
                "key": i.key,
                "article": i.article,
                "link": i.link,
                "title": i.title,
                "summary": i.summary,
                "content": i.content[:MAX_CONTENT],
                "published": i.published,
                "seen_at": outcome.at,
            }
            for i in outcome.items
        ]
        for start in range(0, len(rows), _CHUNK):
            await conn.execute(insert_ignore(self.engine, items, rows[start : start + _CHUNK]))
        ids: dict[str, int] = {}
        keys = [i.key for i in outcome.items]
        for start in range(0, len(keys), _CHUNK):
            query = select(items.c.key, items.c.id).where(
                items.c.source == outcome.source, items.c.key.in_(keys[start : start + _CHUNK])
            )
            ids.update({key: item_id for key, item_id in (await conn.execute(query)).all()})
        match_rows = [
            {"item_id": ids[key], "rule": m.rule, "terms": list(m.terms)}
            for key, found in outcome.matches.items()
            for m in found
        ]
        if match_rows:
            await conn.execute(insert_ignore(self.engine, matches, match_rows))
        articles = {i.key: i.article for i in outcome.items}
        delivery_rows = [
            {
                "subscriber": d.subscriber,
                "article": articles[d.item_key],
                "item_id": ids[d.item_key],
                "rules": list(d.rules),
                "terms": {r: list(t) for r, t in d.terms.items()},
                "hits": [[r, h.term, h.field, h.start, h.end] for r, h in d.hits],
                "digest_id": None,
                "state": "pending",
                "created_at": outcome.at,
            }
            for d in outcome.deliveries
        ]
        # an article already owed or sent to a subscriber (from another source) is skipped
        for start in range(0, len(delivery_rows), _CHUNK):
            chunk = delivery_rows[start : start + _CHUNK]
            await conn.execute(insert_ignore(self.engine, outbox, chunk))

    async def record_failure(
        self,
        source: str,
        at: datetime,
        status: int | None,
        error: str,
        next_due_at: datetime,
        gone: bool = False,
    ) -> int:
        """Count one more consecutive error; returns the new count. A gone source is not
        polled again until its configured URL changes."""
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(sources)
                .where(sources.c.name == source)
                .values(
                    **_RELEASED,
                    gone_at=at if gone else None,
                    last_poll_at=at,
                    next_due_at=next_due_at,
                    last_result="error",
                    last_status=status,
                    last_error=error[:1000],
                    error_count=sources.c.error_count + 1,
                    last_new_items=0,
                    last_matches=0,
                )
            )
            count = await conn.scalar(select(sources.c.error_count).where(sources.c.name == source))
        return int(count or 0)
