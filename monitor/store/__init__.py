"""The store: one SQLAlchemy async engine over SQLite (default) or PostgreSQL, under migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Table, event, text
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


def _alembic(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic(connection), "head")


def _read_only_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _reader_engine(storage: str) -> AsyncEngine:
    if storage.startswith("sqlite:///"):
        path = Path(storage.removeprefix("sqlite:///"))
        if not path.is_file():
            raise StoreError(f"no store at {path}: the daemon has not run with this storage")
        url = f"sqlite+aiosqlite:///file:{path.resolve()}?mode=ro&uri=true"
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _read_only_pragmas)
        return engine
    settings = {"default_transaction_read_only": "on"}
    return create_async_engine(engine_url(storage), connect_args={"server_settings": settings})


async def open_reader(storage: str) -> AsyncEngine:
    """Connect without writing anything: no file created, no migration run, every transaction
    read-only. The schema must be the one this version writes (StoreError otherwise)."""
    where = storage.split("@")[-1]
    engine = _reader_engine(storage)
    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    try:
        async with engine.connect() as conn:
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except (SQLAlchemyError, OSError) as exc:
        await engine.dispose()
        raise StoreError(f"cannot read storage {where}: {exc}") from exc
    if version != head:
        await engine.dispose()
        raise StoreError(
            f"storage {where} has schema version {version}, this monitor reads {head}: start "
            "the daemon (monitor run) once to upgrade it"
        )
    return engine


def _autocommit_pragmas(dbapi_connection: Any, record: object) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    dbapi_connection.isolation_level = None  # the driver no longer opens transactions itself


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _migrate(url: str) -> None:
    """Bring the schema up to date in one transaction. On SQLite the driver would run each
    CREATE or ALTER outside any transaction, so a process killed mid-migration would leave
    tables without their version stamp; here an explicit BEGIN covers the DDL too, and a crash
    rolls all of it back."""
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _autocommit_pragmas)
        event.listen(engine.sync_engine, "begin", _begin_immediate)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()


async def open_engine(storage: str) -> AsyncEngine:
    """Connect and bring the schema up to date."""
    url = engine_url(storage)
    try:
        await _migrate(url)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"cannot open storage {storage.split('@')[-1]}: {exc}") from exc
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
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


__all__ = ["insert_ignore", "metadata", "open_engine", "open_reader", "reading", "transaction"]
