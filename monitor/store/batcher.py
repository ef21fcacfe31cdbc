"""Group calls to the store: the calls made while one batch is being run go together in the
next, so a thousand polls (or sends) a second cost a few transactions a second, not a thousand;
a lone call runs at once.

Each caller still waits for its own result, and learns whether it failed. A batch that fails
runs again one call at a time, so a call that cannot be done fails alone and the others are
kept. A caller cancelled while it waits does not withdraw its call: it is still done, whole (a
poll's record or a send's mark is not lost because its task was stopped)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from monitor.core.errors import StoreError

In = TypeVar("In")
Out = TypeVar("Out")
MAX_BATCH = 500  # calls per batch: bounds how long the write lock is held


class Batcher(Generic[In, Out]):
    """``run`` takes the calls of a batch, in order, and returns one result for each."""

    def __init__(
        self,
        run: Callable[[Sequence[In]], Awaitable[Sequence[Out]]],
        what: str,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.run = run
        self.what = what  # in the error of a call whose batch was stopped: "poll not recorded"
        self.max_batch = max_batch
        self._pending: list[tuple[In, asyncio.Future[Out]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # run so far, for tests and benchmarks

    async def submit(self, value: In) -> Out:
        """Hand ``value`` to the next batch; returns its result once the batch has run."""
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._pending.append((value, future))
        if self._task is None:
            self._start()
        return await future

    async def close(self) -> None:
        """Wait until every call handed over is done."""
        while self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            await asyncio.sleep(0)  # its done callback runs (and may start the next batch)

    def _stopped(self) -> StoreError:
        return StoreError(f"{self.what}: the store's batcher was stopped")

    def _start(self) -> None:
        self._task = asyncio.create_task(self._drain())
        self._task.add_done_callback(self._drained)

    def _drained(self, task: asyncio.Task[None]) -> None:
        self._task = None
        if task.cancelled() or task.exception() is not None:  # no caller may wait for ever
            for _, future in self._pending:
                _fail(future, self._stopped())
            self._pending.clear()
        elif self._pending:  # handed over after the last batch was taken
            self._start()

    async def _drain(self) -> None:
        batch: list[tuple[In, asyncio.Future[Out]]] = []
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._run(batch)
        except BaseException:
            for _, future in batch:
                _fail(future, self._stopped())
            raise

    async def _run(self, batch: Sequence[tuple[In, asyncio.Future[Out]]]) -> None:
        try:
            results = await self._once([value for value, _ in batch])
        except Exception as exc:
            if len(batch) > 1:
                await self._one_by_one(batch)
            else:
                _fail(batch[0][1], exc)
        else:
            for (_, future), result in zip(batch, results, strict=True):
                _resolve(future, result)

    async def _one_by_one(self, batch: Sequence[tuple[In, asyncio.Future[Out]]]) -> None:
        for value, future in batch:
            try:
                (result,) = await self._once([value])
            except Exception as exc:
                _fail(future, exc)
            else:
                _resolve(future, result)

    async def _once(self, values: Sequence[In]) -> Sequence[Out]:
        results = await self.run(values)
        self.batches += 1
        return results


def _resolve(future: asyncio.Future[Out], result: Out) -> None:
    if not future.done():  # done: its caller was cancelled while waiting
        future.set_result(result)


def _fail(future: asyncio.Future[Out], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
