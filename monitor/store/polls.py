"""The record of polls: any number of them written in one transaction, each statement compiled
once and run with every poll's rows (``executemany``), not rebuilt for each poll."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import (
    Dialect,
    Table,
    Update,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TypeEngine

from monitor.core.models import Hit, Item, News, PollFailure, PollOutcome
from monitor.store import chunks, ignoring
from monitor.store.search import index_words, store_words
from monitor.store.seen_window import known, resight, sent_hash
from monitor.store.tables import POLL_LOG, items, matches, outbox, poll_log, sources

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
    values["polls"] = sources.c.polls + 1  # (numbers the poll log's entry)
    # the time of the last poll that read the document: only "ok" ones give it
    values["read_at"] = func.coalesce(_param("read_at"), sources.c.read_at)
    # the first poll's time is kept: one statement, not a second one for the first poll
    values["first_poll_at"] = func.coalesce(sources.c.first_poll_at, _param("last_poll_at"))
    return update(sources).where(sources.c.name == bindparam("p_name")).values(values)


@cache
def _failure() -> Update:
    columns = ["gone_at", "last_poll_at", "next_due_at", "last_status", "last_error"]
    values: dict[str, Any] = {c: _param(c) for c in columns}
    values |= _RELEASED | {"last_result": "error", "last_new_items": 0, "last_matches": 0}
    values["error_count"] = sources.c.error_count + 1
    values["polls"] = sources.c.polls + 1
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
        "p_read_at": outcome.at if outcome.result == "ok" else None,
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


_LOGGED = ("seq", "at", "result", "status", "duration_ms", "new_items", "error")


@cache
def _log(dialect: str) -> Insert:
    """The poll log's entry of each poll, after its source's UPDATE counted it: the slot of its
    number replaced (a ring of POLL_LOG per source, nothing to prune). A source no longer in the
    store (never, sources are kept) would log nothing: the entry is read from its row."""
    number = sources.c.polls
    entry = select(
        sources.c.name,
        number % literal_column(str(POLL_LOG)),  # (a literal: no parameter in each row)
        number,
        *(bindparam(f"l_{c}", type_=poll_log.c[c].type) for c in _LOGGED[1:]),
    ).where(sources.c.name == bindparam("l_source"))
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(poll_log).from_select(["source", "slot", *_LOGGED], entry)
    return statement.on_conflict_do_update(
        index_elements=[poll_log.c.source, poll_log.c.slot],
        set_={c: statement.excluded[c] for c in _LOGGED},
    )


class _LogStatement(NamedTuple):
    """:func:`_log` compiled once for a dialect, run with rows already bound (as
    :class:`_Inserts`): its SQL, and the names of its parameters in the rows' order."""

    sql: str
    order: tuple[str, ...]


_LOG_STATEMENTS: dict[tuple[str, str, str], _LogStatement] = {}


def _log_statement(dialect: Dialect) -> _LogStatement:
    key = (dialect.name, dialect.driver, dialect.paramstyle)
    if key not in _LOG_STATEMENTS:
        compiled = _log(dialect.name).compile(dialect=dialect)
        order = tuple(compiled.positiontup or ())
        if sorted(order) != sorted(f"l_{c}" for c in ("source", *_LOGGED[1:])):
            raise RuntimeError(f"unexpected poll log statement: {compiled} {order}")
        _LOG_STATEMENTS[key] = _LogStatement(compiled.string, order)
    return _LOG_STATEMENTS[key]


def _milliseconds(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def _log_rows(
    successes: Sequence[PollOutcome], failures: Sequence[PollFailure]
) -> list[dict[str, object]]:
    """Each poll's entry, by parameter name (``at`` as given: :func:`_write_log` binds it)."""
    rows: list[dict[str, object]] = [
        {
            "l_source": o.source, "l_at": o.at, "l_result": o.result, "l_status": o.status,
            "l_duration_ms": _milliseconds(o.seconds), "l_new_items": len(o.items),
            "l_error": None,
        }
        for o in successes
    ]  # fmt: skip
    rows += [
        {
            "l_source": f.source, "l_at": f.at, "l_result": "error", "l_status": f.status,
            "l_duration_ms": _milliseconds(f.seconds), "l_new_items": 0,
            "l_error": f.error[:MAX_ERROR],
        }
        for f in failures
    ]  # fmt: skip
    return rows


async def _write_log(
    conn: AsyncConnection, successes: Sequence[PollOutcome], failures: Sequence[PollFailure]
) -> None:
    """The poll log's entries, after the sources' UPDATEs (each poll's number is its source's
    count): one prepared statement, executemany, like the items' inserts."""
    statement, at = _log_statement(conn.dialect), _inserts(conn.dialect).at
    rows = []
    for row in _log_rows(successes, failures):
        row["l_at"] = at(cast("datetime", row["l_at"]))
        rows.append(tuple(row[name] for name in statement.order))
    await bound_insert(conn, statement.sql, rows)


async def write_polls(
    conn: AsyncConnection,
    successes: Sequence[PollOutcome],
    failures: Sequence[PollFailure],
    news: Sequence[News] = (),
) -> None:
    """Record polls in the transaction of ``conn``: their sources' state and poll log, new
    items, matches and what is owed to subscribers. One source at most once (its polls do not
    overlap). The news a hub pushed (WebSub) is recorded alone: an item a poll records too is
    kept once."""
    shapes: dict[tuple[bool, bool], list[dict[str, object]]] = {}
    for outcome in successes:
        shape = (outcome.result != "not-modified", outcome.location is not None)
        shapes.setdefault(shape, []).append(_success_row(outcome))
    for (validators, location), rows in shapes.items():
        await conn.execute(_success(validators, location), rows)
    if failures:
        await conn.execute(_failure(), [_failure_row(f) for f in failures])
    if successes or failures:
        await _write_log(conn, successes, failures)
    written: list[PollOutcome | News] = [*successes, *news]
    for record in written:  # items still in their feed: not pruned (monitor.store.seen_window)
        await resight(conn, record.source, record.sighted, record.at)
    with_items = [record for record in written if record.items]
    if with_items:
        await _write_items(conn, with_items)


class _Inserts(NamedTuple):
    """The INSERT … ON CONFLICT DO NOTHING of items, matches and outbox rows for one dialect,
    compiled once, and the bind processors of their column types: the rows are tuples already
    processed, run with the driver's executemany (one prepared statement for every row)."""

    items: str
    matches: str
    outbox: str
    at: Callable[[datetime | None], object]  # UTCDateTime (every time column), as bound
    json: Callable[[object], object]  # JSON (rules, terms, hits), as SQLAlchemy binds it


# the columns of each INSERT, in the order of their rows' tuples (the tables' own order)
_ITEM_COLUMNS: tuple[str, ...] = ("source", "key", "article", "link", "title", "summary")
_ITEM_COLUMNS += ("content", "published", "seen_at", "title_words", "text_words")
_MATCH_COLUMNS = ("item_id", "rule", "terms")
_OUTBOX_COLUMNS: tuple[str, ...] = ("subscriber", "article", "item_id", "rules", "terms")
_OUTBOX_COLUMNS += ("digest_id", "state", "created_at", "hits")
_INSERTS: dict[tuple[str, str, str], _Inserts] = {}
# rows per executemany: each row is a statement of its own, under no parameter limit
EXECUTEMANY = 5000


def _inserts(dialect: Dialect) -> _Inserts:
    key = (dialect.name, dialect.driver, dialect.paramstyle)
    if key not in _INSERTS:
        _INSERTS[key] = _Inserts(
            compiled_insert(dialect, items, _ITEM_COLUMNS),
            compiled_insert(dialect, matches, _MATCH_COLUMNS),
            compiled_insert(dialect, outbox, _OUTBOX_COLUMNS),
            bind_processor(dialect, items.c.seen_at.type),
            bind_processor(dialect, outbox.c.terms.type),
        )
    return _INSERTS[key]


def compiled_insert(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str:
    """INSERT … ON CONFLICT DO NOTHING of ``columns`` of ``table``, compiled for ``dialect``, to
    run with tuples of their values in that order (:func:`bound_insert`)."""
    compiled = ignoring(dialect.name, table).compile(
        dialect=dialect, column_keys=list(columns), for_executemany=True
    )
    # the rows' tuples are in the SQL's order, and executemany returns no rows
    if list(compiled.positiontup or ()) != list(columns) or compiled.effective_returning:
        raise RuntimeError(f"unexpected INSERT: {compiled} {compiled.positiontup}")
    return compiled.string


def bind_processor(dialect: Dialect, type_: TypeEngine[Any]) -> Callable[[Any], object]:
    """What SQLAlchemy makes of a value of ``type_`` it binds on ``dialect``."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else _same


def _same(value: object) -> object:
    return value


K = TypeVar("K")


class _Encoded(dict[K, object]):
    """JSON values bound once per distinct key, from the key alone: every subscriber of the
    same rules owes an item the same rules, terms and hits (one encoding, many rows)."""

    def __init__(self, value: Callable[[K], object], bind: Callable[[object], object]) -> None:
        super().__init__()
        self.value, self.bind = value, bind

    def __missing__(self, key: K) -> object:
        self[key] = encoded = self.bind(self.value(key))
        return encoded


def _rules(rules: tuple[str, ...]) -> object:
    return list(rules)


def _terms(terms: tuple[tuple[str, tuple[str, ...]], ...]) -> object:
    return {rule: list(found) for rule, found in terms}


def _hits(hits: tuple[tuple[str, Hit], ...]) -> object:
    return [[rule, h.term, h.field, h.start, h.end] for rule, h in hits]


async def _write_items(conn: AsyncConnection, outcomes: Sequence[PollOutcome | News]) -> None:
    inserts = _inserts(conn.dialect)
    at, bind_json, dialect = inserts.at, inserts.json, conn.dialect.name
    rows = []
    for outcome in outcomes:
        seen_at = at(outcome.at)
        rows += [
            (
                outcome.source, i.key, i.article, i.link, i.title, i.summary,
                i.content[:MAX_CONTENT], at(i.published), seen_at,
                *_words(dialect, outcome, i),
            )
            for i in outcome.items
        ]  # fmt: skip
    await bound_insert(conn, inserts.items, rows)
    wanted = [(o.source, key) for o in outcomes for key in o.matches]
    wanted += [(o.source, d.item_key) for o in outcomes for d in o.deliveries]
    if not wanted:
        return
    ids = await _item_ids(conn, wanted)
    match_rows = [
        (ids[outcome.source, key], m.rule, bind_json(list(m.terms)))
        for outcome in outcomes
        for key, found in outcome.matches.items()
        for m in found
    ]
    await bound_insert(conn, inserts.matches, match_rows)
    articles = {(row[0], row[1]): row[2] for row in rows}
    rules, terms, hits = (
        _Encoded(_rules, bind_json),
        _Encoded(_terms, bind_json),
        _Encoded(_hits, bind_json),
    )
    delivery_rows = []
    for outcome in outcomes:
        created_at = at(outcome.at)
        delivery_rows += [
            (
                d.subscriber, articles[outcome.source, d.item_key],
                ids[outcome.source, d.item_key], rules[d.rules], terms[tuple(d.terms.items())],
                None, "pending", created_at, hits[d.hits],
            )
            for d in outcome.deliveries
        ]  # fmt: skip
    # an article already owed or sent to a subscriber (from another source) is skipped: by
    # the outbox's unique (subscriber, article), or once the row that was sent went past the
    # seen-window, by its record (monitor.store.seen_window)
    await bound_insert(conn, inserts.outbox, delivery_rows)
    await _drop_sent_before(conn, delivery_rows)


async def _drop_sent_before(
    conn: AsyncConnection, delivery_rows: Sequence[tuple[Any, ...]]
) -> None:
    """Delete the outbox rows just inserted whose (subscriber, article) has a record: sent
    before, its row since pruned. Read after the insert, not before: on PostgreSQL a prune may
    delete that sent row and commit its record while this transaction runs; an insert meeting
    the row deleted but not committed waits for the prune, and once the insert is done the
    record is committed and seen here (READ COMMITTED: each statement sees the latest)."""
    sent = await known(conn, [sent_hash(row[0], row[1]) for row in delivery_rows])
    if not sent:
        return
    ours = [row[:3] for row in delivery_rows if sent_hash(row[0], row[1]) in sent]
    identity = tuple_(outbox.c.subscriber, outbox.c.article, outbox.c.item_id)
    for some in chunks(ours):  # (the item's own row: one owed from another source stays)
        await conn.execute(delete(outbox).where(identity.in_(some), outbox.c.state == "pending"))


def _words(dialect: str, outcome: PollOutcome | News, item: Item) -> tuple[str, str]:
    """The item's words for search: as the poll folded them, else folded here."""
    found = outcome.words.get(item.key)
    if found is None:
        return index_words(dialect, item.title, item.summary, item.content)
    return store_words(dialect, found)


async def bound_insert(
    conn: AsyncConnection, statement: str, rows: Sequence[tuple[Any, ...]]
) -> None:
    """Run a :func:`compiled_insert` with ``rows``: one prepared statement, executemany."""
    for chunk in chunks(rows, EXECUTEMANY):
        await conn.exec_driver_sql(statement, chunk)


# The ids of items by (source, key) on SQLite: one statement prepared once, whatever the
# number of pairs (a JSON array of them), each pair a search of uq_items_source_key. SQLite
# scans that index for a row value IN (VALUES …), and a list of parameters is a new statement
# for each count.
_SQLITE_IDS = (
    'SELECT items.source, items."key", items.id FROM json_each(?) AS wanted CROSS JOIN items '
    "WHERE items.source = json_extract(wanted.value, '$[0]') "
    "AND items.\"key\" = json_extract(wanted.value, '$[1]')"
)


async def _item_ids(
    conn: AsyncConnection, pairs: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The id of each item by (source, key), those just inserted or stored before alike."""
    wanted = list(dict.fromkeys(pairs))
    ids: dict[tuple[str, str], int] = {}
    if conn.dialect.name == "sqlite":
        for some in chunks(wanted, EXECUTEMANY):
            result = await conn.exec_driver_sql(_SQLITE_IDS, (json.dumps(some),))
            found = cast("list[tuple[str, str, int]]", result.all())
            ids.update({(source, key): item_id for source, key, item_id in found})
    else:
        identity = tuple_(items.c.source, items.c.key)
        for some in chunks(wanted):
            query = select(items.c.source, items.c.key, items.c.id).where(identity.in_(some))
            ids.update(
                {(source, key): item_id for source, key, item_id in await conn.execute(query)}
            )
    # read alone: a key JSON does not carry to SQLite whole (with a NUL), or no item at all
    # (a match or a delivery of an item not in the poll: a KeyError, the poll not recorded)
    for source, key in [pair for pair in wanted if pair not in ids]:
        query = select(items.c.id).where(items.c.source == source, items.c.key == key)
        if (item_id := await conn.scalar(query)) is not None:
            ids[source, key] = item_id
    return ids
