"""Fresh databases for the store tests: a SQLite file, or a new database on the PostgreSQL
server of the machine (``MONITOR_TEST_POSTGRES``, by default the trust-auth server on
127.0.0.1:5432, database ``test``), dropped after the test.

The store tests run on both backends. When PostgreSQL cannot be reached they fail with a message
saying so: a skipped backend would let PostgreSQL bugs land unseen.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

ADMIN = os.environ.get("MONITOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# (marked: `make quick` leaves PostgreSQL out, `make test` never does)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(ADMIN, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {ADMIN} ({exc!r}): the store tests run on it. "
            "Start it, or point MONITOR_TEST_POSTGRES at a server where this user may create "
            "databases.",
            pytrace=False,
        )


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """The storage URL of a new, empty PostgreSQL database, dropped afterwards."""
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        admin = await _admin()
        try:  # FORCE: a connection a test leaked must not keep the database alive
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def fresh_storage(backend: str, folder: Path) -> AsyncIterator[str]:
    """A ``storage:`` value for ``backend`` with nothing in it yet."""
    if backend == "sqlite":
        yield f"sqlite:///{folder}/m.db"
        return
    async with postgres_database() as url:
        yield url
