"""The WebSub subscriptions in the store (table ``push_subscriptions``): what each source's hub
was asked, what it verified, and until when it delivers. Every replica reads and writes the
same rows, so a hub's verification or delivery may reach any of them."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import HubLink
from monitor.store import chunks, ignoring, reading, transaction
from monitor.store.among import one_of
from monitor.store.tables import push_subscriptions as subs
from monitor.store.tables import sources

MAX_ERROR = 500  # characters of a hub's refusal kept


@dataclass(frozen=True, slots=True)
class Subscription:
    callback: str
    source: str
    hub: str
    topic: str
    secret: str
    wanted: bool  # False: being unsubscribed
    renew_at: datetime
    requested_at: datetime | None = None  # the last request sent
    attempts: int = 0  # requests sent since the last verification
    last_error: str | None = None
    verified_at: datetime | None = None
    lease_until: datetime | None = None
    last_push_at: datetime | None = None
    quiet_since: datetime | None = None

    @property
    def link(self) -> HubLink:
        return HubLink(self.hub, self.topic)

    def delivering(self, now: datetime) -> bool:
        """Whether the hub is trusted to deliver now: verified, within its lease, and no poll
        since its last delivery found an item it had missed."""
        return (
            self.wanted
            and self.lease_until is not None
            and self.lease_until > now
            and self.quiet_since is None
        )


_COLUMNS = [subs.c[name] for name in Subscription.__slots__]  # dataclass fields, in order


class PushStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def all(self) -> list[Subscription]:
        async with reading(self.engine) as conn:
            rows = await conn.execute(select(*_COLUMNS).order_by(subs.c.source))
            return [Subscription(*row) for row in rows]

    async def get(self, callback: str) -> Subscription | None:
        async with reading(self.engine) as conn:
            row = (await conn.execute(select(*_COLUMNS).where(subs.c.callback == callback))).first()
        return None if row is None else Subscription(*row)

    async def of_source(self, source: str) -> Subscription | None:
        """The subscription ``source`` has (or is getting), if any."""
        query = select(*_COLUMNS).where(subs.c.source == source, subs.c.wanted)
        async with reading(self.engine) as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else Subscription(*row)

    async def of_sources(self, names: Collection[str]) -> dict[str, Subscription]:
        """The subscription each of ``names`` (a page of them) has or is getting: one query."""
        query = select(*_COLUMNS).where(one_of(subs.c.source, names), subs.c.wanted)
        async with reading(self.engine) as conn:
            return {row.source: Subscription(*row) for row in await conn.execute(query)}

    async def want(self, source: str, link: HubLink | None, now: datetime) -> bool:
        """Record that ``source``'s feed names ``link`` (None: no hub any more). A new link gets
        a row due now; rows of another link are to be unsubscribed, now. False when the store
        already said so (another replica saw it first)."""
        async with transaction(self.engine) as conn:
            query = select(subs.c.callback, subs.c.hub, subs.c.topic).where(
                subs.c.source == source, subs.c.wanted
            )
            current = {HubLink(hub, topic): cb for cb, hub, topic in await conn.execute(query)}
            stale = [cb for known, cb in current.items() if known != link]
            if stale:
                await conn.execute(
                    update(subs)
                    .where(subs.c.callback.in_(stale))
                    .values(wanted=False, renew_at=now, attempts=0, last_error=None)
                )
            if link is None or link in current:
                return bool(stale)
            # (one wanted row a source: a replica inserting the same at once inserts nothing)
            await conn.execute(
                ignoring(conn.dialect.name, subs).values(
                    callback=secrets.token_urlsafe(24),
                    source=source,
                    hub=link.hub,
                    topic=link.topic,
                    secret=secrets.token_urlsafe(32),
                    wanted=True,
                    renew_at=now,
                    attempts=0,
                )
            )
            return True

    async def keep_only(self, sources: Collection[str], now: datetime) -> int:
        """Unsubscribe the sources not in ``sources`` (removed from the configuration, or no
        longer of a kind read as a feed); how many rows that concerns."""
        keep = set(sources)
        async with transaction(self.engine) as conn:
            query = select(subs.c.callback, subs.c.source).where(subs.c.wanted)
            gone = [cb for cb, source in await conn.execute(query) if source not in keep]
            for chunk in chunks(gone):  # (all of them, when push is turned off)
                await conn.execute(
                    update(subs)
                    .where(subs.c.callback.in_(chunk))
                    .values(wanted=False, renew_at=now, attempts=0, last_error=None)
                )
        return len(gone)

    async def keep_defined(self, now: datetime) -> int:
        """Store mode's :meth:`keep_only`: unsubscribe the sources the ``sources`` table has
        removed (or never had), one statement joining the two tables (no names read: a
        million sources, and a replica holds only some); how many rows that concerns."""
        defined = exists().where(sources.c.name == subs.c.source, sources.c.removed_at.is_(None))
        async with transaction(self.engine) as conn:
            result = await conn.execute(
                update(subs)
                .where(subs.c.wanted, ~defined)
                .values(wanted=False, renew_at=now, attempts=0, last_error=None)
            )
        return int(result.rowcount or 0)

    async def due(self, now: datetime, limit: int) -> list[Subscription]:
        """The subscriptions whose next request to the hub is due, the longest due first."""
        query = (
            select(*_COLUMNS).where(subs.c.renew_at <= now).order_by(subs.c.renew_at).limit(limit)
        )
        async with reading(self.engine) as conn:
            return [Subscription(*row) for row in await conn.execute(query)]

    async def claim(self, sub: Subscription, now: datetime, until: datetime) -> bool:
        """Take the request ``sub`` is due for, before it is sent (a hub may verify it before
        it answers): no other replica sends it before ``until``, when it is sent again unless
        the hub verified it. It counts as an attempt until then: a hub that never verifies is
        asked less and less often."""
        async with transaction(self.engine) as conn:
            result = await conn.execute(
                update(subs)
                .where(subs.c.callback == sub.callback, subs.c.renew_at == sub.renew_at)
                .values(
                    renew_at=until,
                    requested_at=now,
                    attempts=subs.c.attempts + 1,
                    last_error=None,
                )
            )
        return bool(result.rowcount)

    async def failed(self, callback: str, error: str, retry_at: datetime) -> None:
        """The request was not accepted: sent again at ``retry_at``."""
        await self._set(callback, last_error=error[:MAX_ERROR], renew_at=retry_at)

    async def verified(
        self, callback: str, now: datetime, lease_until: datetime, renew_at: datetime
    ) -> None:
        await self._set(
            callback,
            verified_at=now,
            lease_until=lease_until,
            renew_at=renew_at,
            attempts=0,
            last_error=None,
        )

    async def denied(self, callback: str, reason: str, retry_at: datetime) -> None:
        """The hub refused the subscription: no lease; asked again at ``retry_at``."""
        await self._set(
            callback,
            lease_until=None,
            last_error=f"denied by the hub: {reason}"[:MAX_ERROR],
            renew_at=retry_at,
        )

    async def pushed(self, callback: str, now: datetime) -> None:
        await self._set(callback, last_push_at=now, quiet_since=None)

    async def quiet(self, source: str, now: datetime) -> None:
        """A poll of ``source`` found items its hub had not delivered."""
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(subs)
                .where(subs.c.source == source, subs.c.wanted, subs.c.quiet_since.is_(None))
                .values(quiet_since=now)
            )

    async def delete(self, callback: str) -> None:
        async with transaction(self.engine) as conn:
            await conn.execute(delete(subs).where(subs.c.callback == callback))

    async def _set(self, callback: str, **values: object) -> None:
        async with transaction(self.engine) as conn:
            await conn.execute(update(subs).where(subs.c.callback == callback).values(**values))
