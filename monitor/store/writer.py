"""Group commit of polls, and of what hubs push: those that end while one transaction is
being written are written together in the next (monitor.store.batcher); each waits until its
own record is committed, and one that cannot be recorded fails alone."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.core.models import News, PollFailure, PollOutcome
from monitor.store.batcher import MAX_BATCH, Batcher
from monitor.store.sources import SourceStore

Record = PollOutcome | PollFailure | News


class PollWriter(Batcher[Record, None]):
    def __init__(self, store: SourceStore, max_batch: int = MAX_BATCH) -> None:
        super().__init__(self._commit, "poll not recorded", max_batch)
        self.store = store

    async def write(self, record: Record) -> None:
        """Record one poll; returns once it is committed. A poll cancelled while it waits is
        still recorded (whole): what it fetched is not lost, nor fetched twice."""
        await self.submit(record)

    async def _commit(self, records: Sequence[Record]) -> list[None]:
        successes = [r for r in records if isinstance(r, PollOutcome)]
        failures = [r for r in records if isinstance(r, PollFailure)]
        news = [r for r in records if isinstance(r, News)]
        await self.store.record(successes, failures, news)
        return [None] * len(records)
