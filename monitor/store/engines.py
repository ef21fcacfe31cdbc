"""Engines for a ``storage:`` value: the async driver URL and each backend's connection setup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from monitor.core.errors import NoStore
from monitor.core.redact import redact_url


def sqlite_file(storage: str) -> Path | None:
    """The file of a ``sqlite:///`` storage, absolute; None for another backend or
    ``:memory:``. A relative path is relative to the working directory of the process (as
    SQLite opens it), not to the configuration file's folder."""
    if not storage.startswith("sqlite:///"):
        return None
    path = storage.removeprefix("sqlite:///")
    if not path or path == ":memory:":
        return None
    return Path(path).absolute()


def place(storage: str) -> str:
    """Where a ``storage:`` value points, safe to print: a SQLite file's absolute path, or the
    URL without its password."""
    path = sqlite_file(storage)
    return str(path) if path is not None else redact_url(storage)


def failure(exc: BaseException, url: str) -> str:
    """A failure to reach the database server of ``url`` in words (``connection refused by
    db.example:5432``); the driver's own text for any other failure."""
    if isinstance(exc, OSError | DBAPIError) and not url.startswith("sqlite"):
        from monitor.net.words import in_words  # (only on this path: it loads aiohttp)

        try:
            parsed = make_url(url)
        except ArgumentError:
            parsed = None
        if parsed is not None and parsed.host:
            said = in_words(exc, parsed.host, parsed.port or 5432)
            if said is not None:
                return said
    return str(exc)


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


# Prepared statements Python's sqlite3 keeps per connection (its default: 128). The daemon's
# batched statements (multi-row VALUES, IN lists) change SQL with the batch's size, so each size
# is a statement of its own, up to hundreds of KB for 500 rows: 128 of them on each pooled
# connection held 35 MB after a first poll of 10,000 sources (issue 7's idle footprint). The
# few fixed statements of the hot path fit in 16; measured, cold start and sustained polls
# did not slow down.
SQLITE_STATEMENTS = 16


def store_engine(url: str) -> AsyncEngine:
    """The daemon's engine for a driver URL (:func:`engine_url`), each backend set up."""
    if not url.startswith("sqlite"):
        return create_async_engine(url)
    engine = create_async_engine(url, connect_args={"cached_statements": SQLITE_STATEMENTS})
    event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    return engine


def sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def read_only_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def reader_engine(storage: str) -> AsyncEngine:
    path = sqlite_file(storage)
    if path is not None:
        if not path.is_file():
            raise NoStore(str(path))
        url = f"sqlite+aiosqlite:///file:{path.resolve()}?mode=ro&uri=true"
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", read_only_pragmas)
        return engine
    if storage.startswith("sqlite"):  # :memory: is another process's own: nothing to read
        raise NoStore(storage)
    settings = {"default_transaction_read_only": "on"}
    return create_async_engine(engine_url(storage), connect_args={"server_settings": settings})


def autocommit_pragmas(dbapi_connection: Any, record: object) -> None:
    sqlite_pragmas(dbapi_connection, record)
    dbapi_connection.isolation_level = None  # the driver no longer opens transactions itself


def begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def migration_engine(url: str) -> AsyncEngine:
    """An engine whose transactions cover DDL. On SQLite the driver would run each CREATE or
    ALTER outside any transaction, so a process killed mid-migration would leave tables without
    their version stamp; here an explicit BEGIN covers the DDL too, and a crash rolls all of it
    back."""
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", autocommit_pragmas)
        event.listen(engine.sync_engine, "begin", begin_immediate)
    return engine
