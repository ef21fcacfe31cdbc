"""Composition root: builds the store, the HTTP client, the matcher and the notifiers from the
configuration, and runs the daemon (forever, or once)."""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from types import TracebackType
from typing import TextIO

from monitor.config import Config
from monitor.digest import Renderer
from monitor.dispatch import Dispatcher, SendReport
from monitor.http import HttpClient
from monitor.logs import event
from monitor.notifiers import NotifierContext, build_notifier
from monitor.outbox import Outbox
from monitor.pipeline import Poller, PollReport
from monitor.routing import Router
from monitor.rules import Matcher
from monitor.scheduler import build_scheduler
from monitor.store import open_engine
from monitor.store.sources import SourceStore

SHUTDOWN_GRACE = 8.0  # seconds given to polls and sends in flight at SIGTERM


def utcnow() -> datetime:
    return datetime.now(UTC)


class App:
    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        stdout: TextIO | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.stdout = stdout or sys.stdout
        self.sources = {s.name: s for s in config.sources}
        self._stack = AsyncExitStack()
        self._in_flight: dict[str, asyncio.Task[PollReport]] = {}
        self._background: set[asyncio.Task[list[SendReport]]] = set()

    async def __aenter__(self) -> App:
        engine = await open_engine(self.config.storage)
        self._stack.push_async_callback(engine.dispose)
        self.store = SourceStore(engine)
        self.outbox = Outbox(engine)
        self.http = await self._stack.enter_async_context(HttpClient(self.config.network))
        self.poller = Poller(
            self.config,
            self.http,
            self.store,
            Matcher(self.config.rules),
            Router(self.config.subscribers),
            self.clock,
        )
        context = NotifierContext(
            renderer=Renderer(self.config.zone),
            smtp=self.config.smtp,
            session=self.http.session,
            stdout=self.stdout,
        )
        self.dispatcher = Dispatcher(
            subscribers={s.name: s for s in self.config.subscribers},
            notifiers={s.name: build_notifier(s, context) for s in self.config.subscribers},
            outbox=self.outbox,
            zone=self.config.zone,
            clock=self.clock,
        )
        await self.store.sync(self.config, self.clock())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def poll(self, names: list[str]) -> list[PollReport]:
        states = await self.store.states(names)
        return list(
            await asyncio.gather(
                *(self.poller.run_source(self.sources[n], states[n]) for n in names)
            )
        )

    async def run_once(self) -> tuple[list[PollReport], list[SendReport]]:
        """Poll every source once, then send whatever is due (every immediate digest)."""
        polls = await self.poll(list(self.sources))
        return polls, await self.dispatcher.flush()

    async def poll_due(self) -> None:
        """Start a poll for each due source not already being polled; returns at once."""
        now = self.clock()
        states = await self.store.states(self.sources)
        for name, state in states.items():
            due = state.next_due_at is None or state.next_due_at <= now
            if due and name not in self._in_flight:
                task = asyncio.create_task(self.poller.run_source(self.sources[name], state))
                self._in_flight[name] = task
                task.add_done_callback(functools.partial(self._polled, name))

    def _polled(self, name: str, task: asyncio.Task[PollReport]) -> None:
        self._in_flight.pop(name, None)
        if task.cancelled():
            return
        if task.exception() is not None:
            event("poll-crash", source=name, error=repr(task.exception()))
        elif task.result().matches:
            flush = asyncio.create_task(self.dispatcher.flush(only_immediate=True))
            self._background.add(flush)
            flush.add_done_callback(self._background.discard)

    async def run_forever(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        scheduler = build_scheduler(self.poll_due, self.dispatcher.flush, loop)
        event(
            "start",
            sources=len(self.sources),
            subscribers=len(self.config.subscribers),
            storage=self.config.storage.split("@")[-1],
        )
        await self.poll_due()
        scheduler.start()
        try:
            await stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            await self._drain()
            event("stop")

    async def _drain(self) -> None:
        """Give polls in flight a moment to finish; cancelled ones leave no half-written state
        because each poll writes in one transaction at its end."""
        tasks = list(self._in_flight.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        # a send in progress is recorded before we close; one that hangs is retried next start
        try:
            await asyncio.wait_for(self.dispatcher.lock.acquire(), SHUTDOWN_GRACE / 4)
        except TimeoutError:
            event("stop-during-send")
        for flush in list(self._background):
            flush.cancel()


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
