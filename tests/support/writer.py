"""Counting the store's commits (group commit of polls)."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def commits(engine: AsyncEngine) -> list[int]:
    """A counter of the transactions committed on ``engine`` from now on."""
    counter = [0]

    def committed(_conn: object) -> None:
        counter[0] += 1

    event.listen(engine.sync_engine, "commit", committed)
    return counter
