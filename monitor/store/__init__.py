"""The store: one SQLAlchemy async engine over SQLite (default) or PostgreSQL, under migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import Insert

from monitor.errors import StoreError
from monitor.store.tables import metadata

MIGRATIONS = Path(__file__).parent / "migrations"


def engine_url(storage: str) -> str:
    """The async driver URL for a ``storage:`` value; creates a SQLite file's folder."""
    if storage.startswith("sqlite:///"):
        path = storage.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return "sqlite+aiosqlite:///" + path
    if storage.startswith("postgresql://"):
        return "postgresql+asyncpg://" + storage.removeprefix("postgresql://")
    return storage


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _upgrade(connection: Connection) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def open_engine(storage: str) -> AsyncEngine:
    """Connect and bring the schema up to date."""
    url = engine_url(storage)
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
    except (SQLAlchemyError, OSError) as exc:
        await engine.dispose()
        raise StoreError(f"cannot open storage {storage.split('@')[-1]}: {exc}") from exc
    return engine


@asynccontextmanager
async def _translated(
    opening: AbstractAsyncContextManager[AsyncConnection],
) -> AsyncIterator[AsyncConnection]:
    try:
        async with opening as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StoreError(f"database error: {exc.__class__.__name__}: {exc}") from exc


def transaction(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
    """A connection in a transaction; database failures become StoreError."""
    return _translated(engine.begin())


def reading(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
    """A connection for reads; database failures become StoreError."""
    return _translated(engine.connect())


def insert_ignore(engine: AsyncEngine, table: Table, rows: Sequence[Mapping[str, Any]]) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING, on either backend: repeated inserts are harmless."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table).values(list(rows)).on_conflict_do_nothing()
    return sqlite.insert(table).values(list(rows)).on_conflict_do_nothing()


__all__ = ["insert_ignore", "metadata", "open_engine", "reading", "transaction"]
