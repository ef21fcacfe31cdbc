"""``monitor db upgrade``: the daemon refuses a store whose schema is behind, and says what to
run; the command upgrades it, on either backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.store.engines import engine_url, migration_engine
from monitor.store.schema import head
from tests.support.cli import monitor
from tests.support.store import at_revision


@pytest.mark.slow
async def test_a_store_behind_is_refused_until_db_upgrade(tmp_path: Path, storage: str) -> None:
    await at_revision(storage, "0004")
    path = tmp_path / "monitor.yaml"
    path.write_text(f"storage: {storage}\n")

    refused = await asyncio.to_thread(monitor, "run", "--once", "-c", str(path), cwd=tmp_path)
    assert refused.returncode == 3
    assert f"has schema version 0004, this monitor needs {head()}: run `monitor db upgrade`" in (
        refused.stderr
    )
    done = await asyncio.to_thread(monitor, "db", "upgrade", "-c", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"schema upgraded from 0004 to {head()}")
    again = await asyncio.to_thread(monitor, "db", "upgrade", "-c", str(path), cwd=tmp_path)
    assert again.stdout.strip().endswith(f"schema already at version {head()}")
    ran = await asyncio.to_thread(monitor, "run", "--once", "-c", str(path), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    engine = migration_engine(engine_url(storage))
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT version_num FROM alembic_version")) == head()
    finally:
        await engine.dispose()
