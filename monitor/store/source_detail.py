"""What a source's page (``/sources/NAME``, DESIGN §3.7) reads: its state, its last polls (the
poll log), its health notices and one page of its items, newest first, with the rules each
matched — five queries, whatever the number of sources, polls or items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import NOTICE_KEY_PREFIX
from monitor.store import reading
from monitor.store.overview import SOURCE_STATE, State
from monitor.store.tables import POLL_LOG, items, matches, poll_log, sources

MAX_ITEMS = 200  # items a page may ask for
MAX_NOTICES = 40  # notice items read (one per language of each notice)
# The notices' keys, as a range of the unique (source, key) index: a LIKE would read every
# item of the source (SQLite uses an index for LIKE only when it is case-sensitive).
_NOTICES_FROM = NOTICE_KEY_PREFIX
_NOTICES_UNTIL = NOTICE_KEY_PREFIX[:-1] + chr(ord(NOTICE_KEY_PREFIX[-1]) + 1)


@dataclass(frozen=True, slots=True)
class LoggedPoll:
    at: datetime
    result: str  # ok | not-modified | unchanged | error
    status: int | None
    duration_ms: int | None
    new_items: int
    error: str | None


@dataclass(frozen=True, slots=True)
class NoticeRow:
    key: str  # health:STATE:WHEN:LANGUAGE (monitor.poll.health)
    title: str
    seen_at: datetime


@dataclass(frozen=True, slots=True)
class SourceItem:
    id: int
    title: str
    link: str
    published: datetime | None
    seen_at: datetime
    rules: tuple[str, ...]  # the rules it matched, by name


@dataclass(frozen=True, slots=True)
class SourceDetail:
    name: str
    state: State
    since: datetime | None  # when a gone, failing or silent state began
    removed: datetime | None  # no longer in the configuration since
    last_poll: datetime | None
    next_due: datetime | None
    last_error: str | None
    polls: list[LoggedPoll]  # the last POLL_LOG, newest first
    notices: list[NoticeRow]  # newest first
    items: list[SourceItem]  # one page, newest first
    next_item: int | None  # the cursor of the next page of items (None: the last page)


async def source_detail(
    engine: AsyncEngine, name: str, after: int | None, limit: int
) -> SourceDetail | None:
    """``name``'s page, its items after the cursor ``after`` (an item id); None when the store
    has no such source."""
    limit = max(1, min(limit, MAX_ITEMS))
    head = select(
        sources.c.name, SOURCE_STATE.label("state"), sources.c.gone_at, sources.c.health_since,
        sources.c.removed_at, sources.c.last_poll_at, sources.c.next_due_at, sources.c.last_error,
    ).where(sources.c.name == name)  # fmt: skip
    logged = (
        select(poll_log)
        .where(poll_log.c.source == name)
        .order_by(poll_log.c.seq.desc())
        .limit(POLL_LOG)
    )
    notices = (
        select(items.c.key, items.c.title, items.c.seen_at)
        .where(
            items.c.source == name,
            items.c.key >= _NOTICES_FROM,
            items.c.key < _NOTICES_UNTIL,
        )
        .order_by(items.c.id.desc())
        .limit(MAX_NOTICES)
    )
    page = (
        select(items.c.id, items.c.title, items.c.link, items.c.published, items.c.seen_at)
        .where(
            items.c.source == name,
            (items.c.key < _NOTICES_FROM) | (items.c.key >= _NOTICES_UNTIL),
        )
        .order_by(items.c.id.desc())
        .limit(limit + 1)  # one more: is there a next page?
    )
    if after is not None:
        page = page.where(items.c.id < after)
    async with reading(engine) as conn:
        row = (await conn.execute(head)).first()
        if row is None:
            return None
        polls = [
            LoggedPoll(p.at, p.result, p.status, p.duration_ms, p.new_items, p.error)
            for p in (await conn.execute(logged)).all()
        ]
        found = [NoticeRow(n.key, n.title, n.seen_at) for n in (await conn.execute(notices))]
        rows = (await conn.execute(page)).all()
        ids = [r.id for r in rows[:limit]]
        rules: dict[int, list[str]] = {}
        if ids:
            matched = (
                select(matches.c.item_id, matches.c.rule)
                .where(matches.c.item_id.in_(ids))
                .order_by(matches.c.item_id, matches.c.rule)
            )
            for item_id, rule in await conn.execute(matched):
                rules.setdefault(item_id, []).append(rule)
    shown = [
        SourceItem(r.id, r.title, r.link, r.published, r.seen_at, tuple(rules.get(r.id, ())))
        for r in rows[:limit]
    ]
    return SourceDetail(
        name=row.name,
        state=row.state,
        since=row.gone_at if row.state == "gone" else row.health_since,
        removed=row.removed_at,
        last_poll=row.last_poll_at,
        next_due=None if row.state == "gone" or row.removed_at else row.next_due_at,
        last_error=row.last_error,
        polls=polls,
        notices=found,
        items=shown,
        next_item=shown[-1].id if len(rows) > limit else None,
    )
