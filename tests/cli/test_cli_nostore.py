"""A command that reads the store never makes one (DESIGN §3.1): where there is no store it
says where it looked, exits 3 and leaves nothing behind; the daemon says where its store is."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest

from monitor.core.redact import redact_url
from tests.support.cli import monitor
from tests.support.databases import ADMIN, postgres_database
from tests.support.net import free_port

CONFIG = """\
storage: {storage}
subscribers:
  - name: terminal
    console: true
"""
COMMANDS = [
    ["status"],
    ["status", "--subscriber", "terminal"],
    ["digest", "--subscriber", "terminal"],
    ["subscribers"],
    ["retry"],
    ["test-rule", "--backtest", "7d"],
    ["feeds"],
    ["feeds", "rotate-key"],
    ["subscribers", "export"],
    ["subscribers", "reset", "terminal"],
    ["subscribers", "remove", "someone@example.ma"],
]
IDS = [
    "status", "history", "digest", "subscribers", "retry", "backtest", "feeds", "rotate-key",
    "export", "reset", "remove",
]  # fmt: skip
ADVICE = "(start the daemon once, or check storage:)"


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_no_sqlite_store_is_named_by_its_absolute_path_and_nothing_is_made(
    tmp_path: Path, command: list[str]
) -> None:
    """A relative ``sqlite:///`` path is relative to the working directory: the message says
    which file that is, and neither the file nor its folder is created."""
    (tmp_path / "monitor.yaml").write_text(CONFIG.format(storage="sqlite:///data/monitor.db"))
    result = monitor(*command, "-c", "monitor.yaml", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    store = tmp_path / "data" / "monitor.db"
    assert result.stderr.splitlines() == [f"monitor: no store at {store} {ADVICE}"]
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["monitor.yaml"]


@pytest.mark.slow
def test_an_empty_sqlite_file_is_no_store_either(tmp_path: Path) -> None:
    store = tmp_path / "empty.db"
    store.write_bytes(b"")
    (tmp_path / "monitor.yaml").write_text(CONFIG.format(storage=f"sqlite:///{store}"))
    result = monitor("status", "-c", "monitor.yaml", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [f"monitor: no store at {store} {ADVICE}"]
    assert store.read_bytes() == b""


async def _databases() -> set[str]:
    admin = await asyncpg.connect(ADMIN, timeout=10)  # unreachable: the test fails, loudly
    try:
        return {row["datname"] for row in await admin.fetch("SELECT datname FROM pg_database")}
    finally:
        await admin.close()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize(
    "command", [["status"], ["subscribers"], ["retry"], ["feeds", "rotate-key"]], ids=str
)
async def test_a_missing_postgresql_database_is_no_store(
    tmp_path: Path, command: list[str]
) -> None:
    """Said with the URL's password hidden; no database is created."""
    name = f"monitor_absent_{uuid.uuid4().hex[:12]}"
    host = ADMIN.rsplit("/", 1)[0].split("@", 1)[1]
    storage = f"postgresql://postgres:Pw-{name}@{host}/{name}"
    (tmp_path / "monitor.yaml").write_text(CONFIG.format(storage=storage))
    assert name not in await _databases()
    result = await asyncio.to_thread(monitor, *command, "-c", "monitor.yaml", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert result.stderr.splitlines() == [
        f"monitor: no store at postgresql://***@{host}/{name} {ADVICE}"
    ]
    assert name not in await _databases()


@pytest.mark.slow
@pytest.mark.postgres
async def test_a_postgresql_database_without_the_schema_is_no_store(tmp_path: Path) -> None:
    async with postgres_database() as storage:
        (tmp_path / "monitor.yaml").write_text(CONFIG.format(storage=storage))
        result = await asyncio.to_thread(monitor, "status", "-c", "monitor.yaml", cwd=tmp_path)
        assert result.returncode == 3, result.stderr
        where = redact_url(storage)  # the user name hidden too
        assert result.stderr.splitlines() == [f"monitor: no store at {where} {ADVICE}"]
        conn = await asyncpg.connect(storage, timeout=10)
        try:  # a read-only command ran no migration
            tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        finally:
            await conn.close()
        assert tables == []


@pytest.mark.slow
def test_the_daemon_logs_its_store_as_an_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "monitor.yaml").write_text(CONFIG.format(storage="sqlite:///data/monitor.db"))
    ran = monitor("run", "--once", "-c", "monitor.yaml", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    store = tmp_path / "data" / "monitor.db"
    assert f"store storage={store}" in ran.stderr, ran.stderr
    assert store.is_file()
    status = monitor("status", "-c", "monitor.yaml", cwd=tmp_path)
    assert status.returncode == 0, status.stderr


@pytest.mark.slow
@pytest.mark.parametrize("command", [["status"], ["run", "--once"]], ids=str)
def test_a_database_server_that_refuses_is_said_in_words(
    tmp_path: Path, command: list[str]
) -> None:
    """Not a missing store: a storage failure, saying what the server did."""
    port = free_port()
    storage = f"postgresql://monitor:Pw-9c1d@127.0.0.1:{port}/monitor"
    (tmp_path / "monitor.yaml").write_text(CONFIG.format(storage=storage))
    result = monitor(*command, "-c", "monitor.yaml", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    verb = "read" if command == ["status"] else "open"
    assert result.stderr.splitlines()[-1] == (
        f"monitor: storage failure: cannot {verb} storage "
        f"postgresql://***@127.0.0.1:{port}/monitor: connection refused by 127.0.0.1:{port}"
    )
