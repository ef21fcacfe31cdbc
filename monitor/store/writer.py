"""Group commit of polls: the polls that end while one transaction is being written are written
together in the next, so a thousand polls a second cost a few transactions a second, not a
thousand; a lone poll is written at once, as before.

Each poll still waits until its own record is committed, and learns whether it failed. A batch
that fails is written again one poll per transaction, so a poll that cannot be recorded fails
alone and the others are kept."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from monitor.errors import StoreError
from monitor.models import PollFailure, PollOutcome
from monitor.store.sources import SourceStore

Record = PollOutcome | PollFailure
MAX_BATCH = 500  # polls per transaction: bounds how long the write lock is held


class PollWriter:
    def __init__(self, store: SourceStore, max_batch: int = MAX_BATCH) -> None:
        self.store = store
        self.max_batch = max_batch
        self._pending: list[tuple[Record, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0  # written so far, for tests and benchmarks

    async def write(self, record: Record) -> None:
        """Record one poll; returns once it is committed. A poll cancelled while it waits is
        still recorded (whole): what it fetched is not lost, nor fetched twice."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if self._task is None:
            self._start()
        await future

    async def close(self) -> None:
        """Wait until every poll handed over is written."""
        while self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            await asyncio.sleep(0)  # its done callback runs (and may start the next batch)

    def _start(self) -> None:
        self._task = asyncio.create_task(self._drain())
        self._task.add_done_callback(self._drained)

    def _drained(self, task: asyncio.Task[None]) -> None:
        self._task = None
        if task.cancelled() or task.exception() is not None:  # no poll may wait for ever
            for _, future in self._pending:
                _settle(future, StoreError("poll not recorded: the writer was stopped"))
            self._pending.clear()
        elif self._pending:  # handed over after the last batch was taken
            self._start()

    async def _drain(self) -> None:
        batch: list[tuple[Record, asyncio.Future[None]]] = []
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._write(batch)
        except BaseException:
            for _, future in batch:
                _settle(future, StoreError("poll not recorded: the writer was stopped"))
            raise

    async def _write(self, batch: Sequence[tuple[Record, asyncio.Future[None]]]) -> None:
        try:
            await self._commit([record for record, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                await self._one_by_one(batch)
            else:
                _settle(batch[0][1], exc)
        else:
            for _, future in batch:
                _settle(future, None)

    async def _one_by_one(self, batch: Sequence[tuple[Record, asyncio.Future[None]]]) -> None:
        for record, future in batch:
            try:
                await self._commit([record])
            except Exception as exc:
                _settle(future, exc)
            else:
                _settle(future, None)

    async def _commit(self, records: Sequence[Record]) -> None:
        successes = [r for r in records if isinstance(r, PollOutcome)]
        failures = [r for r in records if isinstance(r, PollFailure)]
        await self.store.record(successes, failures)
        self.transactions += 1


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # its poll was cancelled while waiting
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
