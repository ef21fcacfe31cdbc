"""The record of polls: any number of them written in one transaction, each statement compiled
once and run with every poll's rows (``executemany``), not rebuilt for each poll."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Update, bindparam, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.models import News, PollFailure, PollOutcome
from monitor.store import chunks, ignoring
from monitor.store.tables import items, matches, outbox, sources

# characters of an item's plain-text content kept (for backtests, see monitor.store.retention):
# bounds the store whatever a feed sends, and is far beyond any news article
MAX_CONTENT = 100_000
MAX_ERROR = 1000  # characters of a poll's error kept
# a poll recorded ends the lease of the replica that made it (monitor.store.leases)
_RELEASED = {"lease_owner": None, "lease_until": None}


def _param(column: str) -> Any:
    """The bound value for ``column`` in a row of :func:`_source_rows` (typed like it)."""
    return bindparam(f"p_{column}", type_=sources.c[column].type)


@cache
def _success(validators: bool, location: bool) -> Update:
    """The UPDATE of a successful poll; a 304 keeps the validators, and the location changes
    only when redirects moved it (a reload may have reset both meanwhile)."""
    columns = ["last_poll_at", "next_due_at", "last_result", "last_status"]
    columns += ["last_new_items", "last_matches"]
    if validators:
        columns += ["etag", "last_modified", "content_hash"]
    if location:
        columns += ["url", "redirect_url", "redirect_count"]
    values: dict[str, Any] = {c: _param(c) for c in columns}
    values |= _RELEASED | {"error_count": 0, "last_error": None}
    # the first poll's time is kept: one statement, not a second one for the first poll
    values["first_poll_at"] = func.coalesce(sources.c.first_poll_at, _param("last_poll_at"))
    return update(sources).where(sources.c.name == bindparam("p_name")).values(values)


@cache
def _failure() -> Update:
    columns = ["gone_at", "last_poll_at", "next_due_at", "last_status", "last_error"]
    values: dict[str, Any] = {c: _param(c) for c in columns}
    values |= _RELEASED | {"last_result": "error", "last_new_items": 0, "last_matches": 0}
    values["error_count"] = sources.c.error_count + 1
    return update(sources).where(sources.c.name == bindparam("p_name")).values(values)


def _success_row(outcome: PollOutcome) -> dict[str, object]:
    row: dict[str, object] = {
        "p_name": outcome.source,
        "p_last_poll_at": outcome.at,
        "p_next_due_at": outcome.next_due_at,
        "p_last_result": outcome.result,
        "p_last_status": outcome.status,
        "p_last_new_items": len(outcome.items),
        "p_last_matches": sum(len(m) for m in outcome.matches.values()),
    }
    if outcome.result != "not-modified":
        row |= {
            "p_etag": outcome.etag,
            "p_last_modified": outcome.last_modified,
            "p_content_hash": outcome.content_hash,
        }
    if outcome.location is not None:
        row |= {
            "p_url": outcome.location.url,
            "p_redirect_url": outcome.location.redirect_url,
            "p_redirect_count": outcome.location.redirect_count,
        }
    return row


def _failure_row(failure: PollFailure) -> dict[str, object]:
    return {
        "p_name": failure.source,
        "p_gone_at": failure.at if failure.gone else None,
        "p_last_poll_at": failure.at,
        "p_next_due_at": failure.next_due_at,
        "p_last_status": failure.status,
        "p_last_error": failure.error[:MAX_ERROR],
    }


async def write_polls(
    conn: AsyncConnection,
    successes: Sequence[PollOutcome],
    failures: Sequence[PollFailure],
    news: Sequence[News] = (),
) -> None:
    """Record polls in the transaction of ``conn``: their sources' state, new items, matches
    and what is owed to subscribers. One source at most once (its polls do not overlap).
    The news a hub pushed (WebSub) is recorded alone: an item a poll records too is kept once."""
    shapes: dict[tuple[bool, bool], list[dict[str, object]]] = {}
    for outcome in successes:
        shape = (outcome.result != "not-modified", outcome.location is not None)
        shapes.setdefault(shape, []).append(_success_row(outcome))
    for (validators, location), rows in shapes.items():
        await conn.execute(_success(validators, location), rows)
    if failures:
        await conn.execute(_failure(), [_failure_row(f) for f in failures])
    written: list[PollOutcome | News] = [*successes, *news]
    with_items = [record for record in written if record.items]
    if with_items:
        await _write_items(conn, with_items)


async def _write_items(conn: AsyncConnection, outcomes: Sequence[PollOutcome | News]) -> None:
    dialect = conn.dialect.name
    rows: list[dict[str, object]] = [
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
        for outcome in outcomes
        for i in outcome.items
    ]
    ids = await _insert_items(conn, rows)
    articles = {(r["source"], r["key"]): r["article"] for r in rows}
    match_rows = [
        {"item_id": ids[outcome.source, key], "rule": m.rule, "terms": list(m.terms)}
        for outcome in outcomes
        for key, found in outcome.matches.items()
        for m in found
    ]
    for chunk in chunks(match_rows):
        await conn.execute(ignoring(dialect, matches), chunk)
    delivery_rows = [
        {
            "subscriber": d.subscriber,
            "article": articles[outcome.source, d.item_key],
            "item_id": ids[outcome.source, d.item_key],
            "rules": list(d.rules),
            "terms": {r: list(t) for r, t in d.terms.items()},
            "hits": [[r, h.term, h.field, h.start, h.end] for r, h in d.hits],
            "digest_id": None,
            "state": "pending",
            "created_at": outcome.at,
        }
        for outcome in outcomes
        for d in outcome.deliveries
    ]
    # an article already owed or sent to a subscriber (from another source) is skipped
    for chunk in chunks(delivery_rows):
        await conn.execute(ignoring(dialect, outbox), chunk)


async def _insert_items(
    conn: AsyncConnection, rows: Sequence[dict[str, object]]
) -> dict[tuple[str, str], int]:
    """Insert item rows (those already stored are left as they are); the id of every row by
    (source, key). Ids come back from the INSERT; only rows stored before are read again."""
    inserting = ignoring(conn.dialect.name, items).returning(
        items.c.source, items.c.key, items.c.id
    )
    ids: dict[tuple[str, str], int] = {}
    for some in chunks(rows):
        result = await conn.execute(inserting, some)
        ids.update({(source, key): item_id for source, key, item_id in result.all()})
    pairs = [(str(r["source"]), str(r["key"])) for r in rows]
    missing = [pair for pair in pairs if pair not in ids]
    identity = tuple_(items.c.source, items.c.key)
    for known in chunks(missing):
        query = select(items.c.source, items.c.key, items.c.id).where(identity.in_(known))
        ids.update({(source, key): item_id for source, key, item_id in await conn.execute(query)})
    return ids
