"""The SQL statements an engine runs, counted by the tests that check a page or a store query
costs a fixed number of them whatever the store holds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements ``engine`` runs inside the block, in order (clear the list to count
    a part of it)."""
    seen: list[str] = []

    def listened(*args: Any) -> None:  # (conn, cursor, statement, parameters, context, many)
        seen.append(str(args[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", listened)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listened)
