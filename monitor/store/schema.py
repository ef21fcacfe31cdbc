"""The schema's version. An empty database gets the whole schema; a database whose schema is
behind this version of monitor is upgraded only when asked (``monitor db upgrade``): the daemon
refuses it, saying what to run, rather than changing a schema other replicas may still be
using. Every migration runs in one transaction (see :func:`migration_engine`), one process at
a time (a PostgreSQL advisory lock; SQLite's write lock)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect
from sqlalchemy.exc import SQLAlchemyError

from monitor.core.errors import StoreError
from monitor.store.engines import failure, migration_engine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision. Alembic (11 MB of the daemon's memory) is imported only to
# migrate; a start on an up-to-date store reads the version itself. Checked against Alembic's
# own reading of migrations/ by tests/store/test_store.py.
HEAD = "0019"
_ADVISORY_LOCK = 0x6D6F6E  # "mon": replicas starting together migrate one after the other


@dataclass(frozen=True, slots=True)
class Versions:
    before: str | None  # None: an empty database
    after: str


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The schema version this monitor reads and writes."""
    return HEAD


@cache
def _known() -> frozenset[str]:
    """Every schema version of this monitor: its migrations' revisions (v0001_….py: 0001)."""
    versions = (MIGRATIONS / "versions").glob("v[0-9][0-9][0-9][0-9]_*.py")
    return frozenset(path.name[1:5] for path in versions)


def current(connection: Connection) -> str | None:
    """The store's schema version; None for an empty database."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return None if version is None else str(version)


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
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def _versioned(connection: Connection, where: str, allowed: bool) -> Versions:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
    before = current(connection)
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
        raise StoreError(f"cannot open storage {where}: {failure(exc, url)}") from exc
    finally:
        await engine.dispose()
