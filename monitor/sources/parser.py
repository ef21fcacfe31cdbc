"""Parsing in worker processes, with a deadline and a memory cap (issue 3, reliability P2).

feedparser is pure Python and CPU-bound (a 10 MB, 20,000-item feed takes about 5 s), so a
thread would still hold the GIL against the event loop, and nothing could stop a runaway
parse. Each worker is a fresh interpreter running monitor.sources.worker: never a fork of a
daemon that has threads and a running loop, and not started through multiprocessing, whose
"spawn" re-runs the daemon's ``__main__`` script in the child and adds a resource-tracker
process. The daemon talks to a worker over a non-blocking socket pair from the event loop,
enforces the deadline (wall time, from when the request is sent to a worker that is ready),
and kills and replaces a worker that overruns, runs out of memory or dies. Replacements start
at once, so their start-up (about half a second) is not paid by the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
from datetime import datetime
from types import TracebackType
from typing import Any

from monitor.config.sections import LimitsConfig
from monitor.core.errors import ParseError
from monitor.core.models import Fetched, HubLink, Item
from monitor.sources.base import Read, SourceKind
from monitor.sources.process import MB, WorkerProcess
from monitor.sources.worker import OUT_OF_MEMORY

# seconds a worker beyond the first may stay unused before it is stopped: a burst of parses
# (a start, a backlog) does not keep its extra workers' memory for months
IDLE_RETIRE = 60.0
# seconds a parse waits for a busy worker before another is started: parses that would wait a
# moment (most take a millisecond) do not start processes that then stay
SPAWN_AFTER = 0.1
# seconds a parse waits instead, while a worker is still starting (a start takes about 0.5 s):
# the burst of parses of a first round does not start a process each
WAIT_STARTING = 1.0


class Parser:
    """Parses fetched documents in up to ``workers`` worker processes; one per App. The first
    worker starts with the first parse; the others when a parse has waited SPAWN_AFTER for one,
    and stop after IDLE_RETIRE seconds unused; :meth:`rest` stops them all until the next
    parse."""

    def __init__(self, limits: LimitsConfig, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError("a Parser needs at least one worker")
        self._limits = limits
        self._timeout = limits.parse_timeout.total_seconds()
        self._slots = asyncio.Semaphore(workers)
        self._workers = workers
        # none until a poll has a body to parse: a round where every feed answers 304 (or the
        # same body) starts no process (its imports cost a third of a second of CPU)
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._stopping: set[asyncio.Task[None]] = set()
        self._closed = False
        self._trimming: asyncio.TimerHandle | None = None
        self._returned = asyncio.Condition()  # a worker went back to the idle ones

    async def __aenter__(self) -> Parser:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def parse(
        self, kind: SourceKind, fetched: Fetched, source: str, fetched_at: datetime
    ) -> Read:
        """The items of ``fetched`` for ``source`` (of its first limits.max_items entries,
        normalized as of ``fetched_at``); ParseError when it is not a feed, or its parse
        passed limits.parse_timeout or limits.parse_memory."""
        if self._closed:
            raise ParseError("the parser is shutting down")
        async with self._slots:
            if self._closed:
                raise ParseError("the parser is shutting down")
            worker = await self._take()
            self._busy.add(worker)
            try:
                job = (kind, fetched, self._limits.max_items, source, fetched_at)
                reply = await self._ask(worker, job)
            except BaseException:
                self._retire(worker)
                raise
            finally:
                self._busy.discard(worker)
            worker.used = asyncio.get_running_loop().time()
            self._idle.append(worker)
            async with self._returned:
                self._returned.notify()
            if len(self._idle) > 1 and self._trimming is None:
                self._trimming = asyncio.get_running_loop().call_later(IDLE_RETIRE, self._trim)
        return self._read(source, reply)

    def rest(self) -> None:
        """Stop every idle worker: the daemon has nothing to parse for a while, and a worker's
        memory (about 30 MB) is better given back than kept; the next parse starts one (its
        deadline counts from when that worker is ready). Busy workers are left alone."""
        if self._closed:
            return
        idle, self._idle = self._idle, []
        for worker in idle:
            self._stop(worker, kill=not worker.ready)  # one still importing: no need to wait

    @property
    def running(self) -> int:
        """Worker processes started and not stopped."""
        return len(self._idle) + len(self._busy)

    def _trim(self) -> None:
        """Stop the idle workers, past the most recently used, unused for IDLE_RETIRE."""
        self._trimming = None
        if self._closed or len(self._idle) < 2:  # (a parse ending schedules the next trim)
            return
        loop = asyncio.get_running_loop()
        unused = loop.time() - IDLE_RETIRE
        *older, newest = self._idle  # (the list is used from its end)
        self._idle = [w for w in older if w.used > unused] + [newest]
        for worker in older:
            if worker.used <= unused:
                self._stop(worker, kill=False)
        if len(self._idle) > 1:
            self._trimming = loop.call_later(IDLE_RETIRE, self._trim)

    async def _take(self) -> WorkerProcess:
        if not self._idle and self._busy:  # wait a moment for one before starting another
            # (longer while one is still starting: it is free about when another would be)
            starting = any(not worker.ready for worker in self._busy)
            async with self._returned:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(WAIT_STARTING if starting else SPAWN_AFTER):
                        await self._returned.wait_for(lambda: bool(self._idle))
        while self._idle:
            worker = self._idle.pop()
            if worker.alive():
                return worker
            self._retire(worker)  # died while idle (killed from outside): replace it
        return self._spawn()

    def _spawn(self) -> WorkerProcess:
        try:
            return WorkerProcess(self._limits.parse_memory)
        except OSError as exc:  # out of processes or descriptors: this poll fails, not the loop
            raise ParseError(f"cannot start a parse worker ({exc.strerror or exc})") from exc

    async def _ask(self, worker: WorkerProcess, request: tuple[object, ...]) -> tuple[Any, ...]:
        try:
            await worker.start()
        except (TimeoutError, EOFError, OSError, pickle.UnpicklingError) as exc:
            raise ParseError(f"{worker.death()} while starting") from exc
        try:
            async with asyncio.timeout(self._timeout):
                await worker.send(request)
                reply = await worker.receive()
        except TimeoutError:
            raise ParseError(
                f"parse took longer than {self._timeout:g}s (limits.parse_timeout)"
            ) from None
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            await worker.reap()
            raise ParseError(self._died(worker)) from exc
        if reply[0] in ("memory", "error"):
            raise ParseError(self._failed(reply))
        return reply

    def _died(self, worker: WorkerProcess) -> str:
        if worker.process.poll() == OUT_OF_MEMORY:
            return self._failed(("memory",))
        # Out of memory inside C code (expat, malloc) can kill rather than raise.
        return f"{worker.death()} during the parse (over limits.parse_memory?)"

    def _failed(self, reply: tuple[Any, ...]) -> str:
        if reply[0] == "memory":
            mb = self._limits.parse_memory // MB
            return f"parse needed more than {mb} MB of memory (limits.parse_memory)"
        return str(reply[1])

    @staticmethod
    def _read(source: str, reply: tuple[Any, ...]) -> Read:
        if reply[0] == "parse-error":
            raise ParseError(str(reply[1]))
        _, kept, total, shared, rows, follow, feeds, hub = reply
        items = [Item(source, *row) for row in rows]
        links = tuple(map(str, follow)), tuple(map(str, feeds))
        pushed = HubLink(str(hub[0]), str(hub[1])) if hub is not None else None
        return Read(items, int(kept), int(total), int(shared), *links, hub=pushed)

    def _stop(self, worker: WorkerProcess, *, kill: bool) -> None:
        """Stop ``worker`` in the background; close() waits for it."""
        task = asyncio.get_running_loop().create_task(worker.stop(kill=kill))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def _retire(self, worker: WorkerProcess) -> None:
        """Kill a worker that overran, failed or was interrupted, and start its replacement
        now, so the next parse does not wait for a process to start."""
        self._stop(worker, kill=True)
        if not self._closed:
            with contextlib.suppress(ParseError):  # else the next parse tries again
                self._idle.append(self._spawn())

    async def close(self) -> None:
        """Stop every worker: parses in flight fail with ParseError; idle workers exit."""
        if self._closed:
            return
        self._closed = True
        if self._trimming is not None:
            self._trimming.cancel()
        for worker in self._busy:
            worker.process.kill()  # its parse fails at once and retires it
        for _ in range(self._workers):  # wait until no parse is in flight
            await self._slots.acquire()
        idle, self._idle = self._idle, []
        # one still importing would only finish starting to be told to stop: kill it
        stops = [worker.stop(kill=not worker.ready) for worker in idle]
        await asyncio.gather(*stops, *self._stopping)
