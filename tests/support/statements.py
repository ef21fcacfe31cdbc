"""The SQL statements an engine runs, counted by the tests that check a page or a store query
costs a fixed number of them whatever the store holds, or that none binds more than so many
parameters whatever the number of sources (issue 25)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
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


@dataclass(frozen=True, slots=True)
class Ran:
    """One statement as a cursor ran it: its SQL and the bound parameters of one execution (of
    one row, for an executemany)."""

    sql: str
    parameters: int
    many: bool


def _count(parameters: Any, many: bool) -> int:
    if many:  # a list of rows, each bound alone
        return max((_count(row, False) for row in parameters), default=0)
    return len(parameters) if parameters is not None else 0


@contextmanager
def every_statement() -> Iterator[list[Ran]]:
    """Every statement any engine runs inside the block (engines made inside it included: an
    App's, a command's reader), with its number of bound parameters."""
    seen: list[Ran] = []

    def listened(*args: Any) -> None:  # (conn, cursor, statement, parameters, context, many)
        seen.append(Ran(str(args[2]), _count(args[3], bool(args[5])), bool(args[5])))

    event.listen(Engine, "before_cursor_execute", listened)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", listened)
