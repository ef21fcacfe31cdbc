"""The store: one SQLAlchemy async engine over SQLite (default) or PostgreSQL, under migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Table, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

from monitor.core.errors import NoStore, StoreError
from monitor.store.engines import engine_url, failure, place, reader_engine, store_engine
from monitor.store.schema import migrate, require_head
from monitor.store.tables import metadata

T = TypeVar("T")


_NO_DATABASE = "3D000"  # PostgreSQL's invalid_catalog_name: the database does not exist


async def open_reader(storage: str) -> AsyncEngine:
    """Connect without writing anything: no file created, no migration run, every transaction
    read-only. NoStore when there is no store there (no file, no database, no schema); a
    StoreError when its schema is not the one this version writes."""
    where = place(storage)
    engine = reader_engine(storage)
    try:
        async with engine.connect() as conn:
            version = None
            if await conn.run_sync(lambda c: inspect(c).has_table("alembic_version")):
                version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except (SQLAlchemyError, OSError) as exc:
        await engine.dispose()
        if getattr(getattr(exc, "orig", None), "sqlstate", None) == _NO_DATABASE:
            raise NoStore(where) from None
        raise StoreError(f"cannot read storage {where}: {failure(exc, storage)}") from exc
    try:
        if version is None:  # an empty database (or file): the daemon never made its schema
            raise NoStore(where)
        require_head(version, where)
    except StoreError:
        await engine.dispose()
        raise
    return engine


async def open_existing(storage: str) -> AsyncEngine:
    """Connect to write to a store that exists at this version (``monitor retry``): unlike
    :func:`open_engine`, nothing is created or migrated; NoStore when there is none."""
    checked = await open_reader(storage)
    await checked.dispose()
    return store_engine(engine_url(storage))


async def answers(engine: AsyncEngine) -> None:
    """Returns once the store answered a trivial query (StoreError if it cannot)."""
    async with reading(engine) as conn:
        await conn.execute(text("SELECT 1"))


async def open_engine(storage: str, *, upgrade: bool = False) -> AsyncEngine:
    """Connect to the store. An empty database gets the schema; one whose schema is behind
    this version is upgraded only with ``upgrade`` (``monitor db upgrade``), otherwise it is a
    StoreError saying what to run."""
    url = engine_url(storage)
    await migrate(url, place(storage), upgrade=upgrade)
    return store_engine(url)


@asynccontextmanager
async def _translated(
    opening: AbstractAsyncContextManager[AsyncConnection],
) -> AsyncIterator[AsyncConnection]:
    try:
        async with opening as conn:
            yield conn
    except (SQLAlchemyError, OSError) as exc:  # OSError: a server that cannot be reached
        raise StoreError(f"database error: {exc.__class__.__name__}: {exc}") from exc


def transaction(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
    """A connection in a transaction; database failures become StoreError."""
    return _translated(engine.begin())


def reading(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
    """A connection for reads; database failures become StoreError."""
    return _translated(engine.connect())


CHUNK = 500  # rows or keys per statement, under every backend's parameter limit


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in slices of ``size``: one statement each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


# bound parameters a multi-row statement carries at most: far under PostgreSQL's 32,767 and
# SQLite's 32,766, and as fast (a VALUES of 100 rows of 9 columns costs what 500 do per row)
PARAMETERS = 1000


def row_chunks(rows: Sequence[Mapping[str, Any]]) -> Iterator[Sequence[Mapping[str, Any]]]:
    """``rows`` (all with the same keys) in slices of at most :data:`PARAMETERS` values: one
    multi-row INSERT each."""
    if rows:
        yield from chunks(rows, max(1, PARAMETERS // len(rows[0])))


@cache
def ignoring(dialect: str, table: Table) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING on ``dialect``, built once: run it with many rows
    (``executemany``); repeated inserts are harmless."""
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def insert_ignore(engine: AsyncEngine, table: Table, rows: Sequence[Mapping[str, Any]]) -> Insert:
    """:func:`ignoring` with its rows in the statement (a multi-row VALUES)."""
    return ignoring(engine.dialect.name, table).values(list(rows))


__all__ = [
    "CHUNK",
    "PARAMETERS",
    "answers",
    "chunks",
    "engine_url",
    "ignoring",
    "insert_ignore",
    "metadata",
    "open_engine",
    "open_existing",
    "open_reader",
    "place",
    "reading",
    "row_chunks",
    "transaction",
]
