"""The schema's version. An empty database gets the whole schema; a database whose schema is
behind this version of monitor is upgraded only when asked (``monitor db upgrade``): the daemon
refuses it, saying what to run, rather than changing a schema other replicas may still be
using. Every migration runs in one transaction (see :func:`migration_engine`), one process at
a time (a PostgreSQL advisory lock; SQLite's write lock)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from monitor.errors import StoreError
from monitor.store.engines import migration_engine

MIGRATIONS = Path(__file__).parent / "migrations"
_ADVISORY_LOCK = 0x6D6F6E  # "mon": replicas starting together migrate one after the other


@dataclass(frozen=True, slots=True)
class Versions:
    before: str | None  # None: an empty database
    after: str


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The schema version this monitor reads and writes."""
    current = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current is not None
    return current


@cache
def _known() -> frozenset[str]:
    return frozenset(
        s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    )


def require_head(version: str | None, where: str) -> None:
    """StoreError unless a store at ``version`` can be used as it is."""
    if version == head():
        return
    if version is None:
        raise StoreError(f"storage {where} has no schema: the daemon has not run on it yet")
    if version not in _known():
        raise StoreError(
            f"storage {where} has schema version {version}, newer than this monitor ({head()}): "
            "run the newer monitor, or restore a backup"
        )
    raise StoreError(
        f"storage {where} has schema version {version}, this monitor needs {head()}: "
        "run `monitor db upgrade` (stop the other replicas first), then start again"
    )


def upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _versioned(connection: Connection, where: str, allowed: bool) -> Versions:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
    before = MigrationContext.configure(connection).get_current_revision()
    if before == head():
        return Versions(before, before)
    if before is not None and (not allowed or before not in _known()):
        require_head(before, where)  # behind without leave to upgrade, or newer: refused
    upgrade(connection)
    return Versions(before, head())


async def migrate(url: str, where: str, *, upgrade: bool = False) -> Versions:
    """Create the schema of an empty database, check that of any other, and with ``upgrade``
    bring it to this version; StoreError if it cannot be used."""
    engine = migration_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(_versioned, where, upgrade)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"cannot open storage {where}: {exc}") from exc
    finally:
        await engine.dispose()
