"""Composition root: builds the store, the HTTP client, the parser, the matcher and the
notifiers from the configuration, and runs the daemon (forever, or once)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.clock import Clock, utcnow
from monitor.core.errors import ConfigError, StoreError
from monitor.core.logs import event
from monitor.core.memory import Trimmer, refreeze
from monitor.core.metrics import Metrics
from monitor.daemon.gil import loop_first
from monitor.daemon.loading import load
from monitor.daemon.pruning import Pruner
from monitor.delivery.dispatch import Dispatcher, SendReport
from monitor.delivery.subscribers import with_choices
from monitor.net.http import HttpClient
from monitor.notifiers.smtp_pool import SmtpPool
from monitor.poll.claims import ClaimLoop
from monitor.poll.pipeline import Poller
from monitor.poll.reach import FirstRound
from monitor.poll.report import PollReport
from monitor.push.subscriptions import WebSub
from monitor.rules import language
from monitor.runtime import Runtime, build_runtime
from monitor.sources.registry import Parser
from monitor.store import open_engine, place
from monitor.store.catalog import StoredSources, definitions_of
from monitor.store.definitions import Definitions
from monitor.store.leases import (
    Leases,
    clear_all,
    replica_name,
    source_leases,
    subscriber_leases,
)
from monitor.store.lock import single_instance
from monitor.store.outbox import Outbox
from monitor.store.sources import SourceStore
from monitor.store.standing import Standing, Unsubscription
from monitor.store.subscribers import SubscriberBook
from monitor.web.unsubscribe import Purpose, TokenClaim, link_url, load_key

if TYPE_CHECKING:
    from monitor.web.server import WebServer

# sections a reload cannot change live
RESTART_ONLY = ("storage", "network", "limits", "http", "log_format", "sources_from")


async def _load_language_model(config: Config) -> None:
    """Load the language detector in a thread when a rule needs it (most of a second): the
    first item to reach a ``languages:`` rule must not stall the event loop."""
    if any(rule.languages for rule in config.rules):
        await asyncio.to_thread(language.load)


class App:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = utcnow,
        stdout: TextIO | None = None,
        config_path: Path | None = None,
    ) -> None:
        # the configuration as loaded; the runtime's carries the effective subscribers (the
        # configuration's with their own choices, and those who signed up)
        self._config = config
        self.clock = clock
        self.stdout = stdout or sys.stdout
        self.config_path = config_path
        self._stack = AsyncExitStack()
        # the heap is trimmed once polls drain
        self.trimmer = Trimmer(lambda: bool(self.polling.in_flight))
        self.ticked: float | None = None  # monotonic time of the last scheduler tick (healthz)
        self.metrics = Metrics()
        self.stopping = False
        self.replica = replica_name()  # in the leases it holds (monitor.store.leases)
        self.background: set[asyncio.Task[object]] = set()
        self._unsubscribed: set[str] = set()
        self.web: WebServer | None = None  # started by serve_http (run_forever)
        self.websub: WebSub | None = None  # by serve_http too, when hubs can reach us
        self.serving = asyncio.Event()  # set once the unsubscribe server is bound
        self.reloading = asyncio.Lock()  # two SIGHUPs: one reload after the other, in order
        self.runtime: Runtime | None = None  # the configuration in force, swapped whole
        # store mode (sources_from: store): the definitions read lately, kept across reloads
        self.stored: StoredSources | None = None

    async def __aenter__(self) -> App:
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()  # the lock, engine, session and parse worker
            raise
        return self

    async def _open(self) -> None:
        self._stack.enter_context(single_instance(self.config.storage))
        engine = await open_engine(self.config.storage)
        self._stack.push_async_callback(engine.dispose)
        # absolute: a relative sqlite:/// path is relative to the working directory
        event("store", storage=place(self.config.storage))
        if engine.dialect.name == "sqlite":  # alone on its file (single_instance above)
            await clear_all(engine)
        self.source_leases = source_leases(engine, self.replica)
        subscriber_claims = subscriber_leases(engine, self.replica)
        # a clean stop hands its sources and subscribers to the other replicas at once
        self._stack.push_async_callback(self._release, self.source_leases, subscriber_claims)
        self.store = SourceStore(engine)
        self.pruner = Pruner(engine)
        if self.config.sources_from == "store":
            self.stored = StoredSources(Definitions(engine), polled=True)
        self.outbox = Outbox(engine)
        self.standing = Standing(engine)  # subscribers held, unsubscribed
        self.token_key = await load_key(engine)  # kept in the store: old links stay valid
        self.http = await self._stack.enter_async_context(
            HttpClient(self.config.network, clock=self.clock)
        )
        parser = Parser(self.config.limits, workers=self.config.limits.parse_workers)
        self._stack.push_async_callback(parser.close)
        self._unsubscribed = await self.standing.unsubscribed()
        self.book = SubscriberBook(engine)  # what subscribers chose themselves (issue 24)
        self._generation = await self.book.generation()
        self.runtime = self._build(with_choices(self._config, await self.book.choices()))
        self._stack.push_async_callback(self._close_mailer)
        await _load_language_model(self.config)
        self.poller = Poller(self.in_force, self.http, parser, self.store, self.clock, self.metrics)
        # before the engine is disposed: every poll handed to the writer is recorded
        self._stack.push_async_callback(self.poller.writer.close)
        self.dispatcher = Dispatcher(
            self.in_force,
            outbox=self.outbox,
            clock=self.clock,
            leases=subscriber_claims,
            metrics=self.metrics,
        )
        self.polling = ClaimLoop(
            self.in_force,
            self.source_leases,
            self.store,
            self.poller,
            self.dispatcher,
            self.clock,
            self.spawn,
            self.trimmer.poll_ended,
        )
        await self.store.sync(self.config, self.clock())
        await self._refresh_unsubscribed()
        # the sources polled from the start (not those gone: never polled until fixed): no
        # statement carries the names of every source (issue 25)
        configured = None if self.stored is not None else (s.name for s in self.config.sources)
        self.first_round = FirstRound(await self.store.polled(configured))
        self.polling.first_round = self.first_round

    def at_close(self, callback: Callable[[], Awaitable[object]]) -> None:
        """Run ``callback`` when the App closes (before the store and the client go)."""
        self._stack.push_async_callback(callback)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.trimmer.close()
        await self._stack.aclose()

    def in_force(self) -> Runtime:
        """The runtime polls, claims and flushes read when they start."""
        assert self.runtime is not None, "the App is not open"
        return self.runtime

    @property
    def config(self) -> Config:
        """The configuration in force: its subscribers are the effective ones."""
        return self._config if self.runtime is None else self.runtime.config

    @property
    def configured(self) -> Config:
        """The configuration as loaded: its subscribers without their own choices."""
        return self._config

    @property
    def sources(self) -> Mapping[str, SourceConfig]:
        return self.in_force().sources

    @property
    def mailer(self) -> SmtpPool | None:
        return None if self.runtime is None else self.runtime.mailer

    def _build(self, config: Config) -> Runtime:
        """Everything derived from a configuration; raises ConfigError before anything changes."""
        http = config.http
        base = None if http is None else http.base_url
        preferences = None if http is None or http.signup is None else base
        return build_runtime(
            config,
            session=self.http.session,
            http=self.http,  # (webhooks through network.proxy)
            stdout=self.stdout,
            clock=self.clock,
            unsubscribe_url=link_url(self.token_key, base, Purpose.UNSUBSCRIBE),
            # (the preferences page is served with sign-ups only: monitor.web.signup)
            preferences_url=link_url(self.token_key, preferences, Purpose.PREFERENCES),
            unsubscribed=self._unsubscribed,
            mailer=self.mailer,
            stored=self.stored,
        )

    async def _refresh_unsubscribed(self) -> None:
        """Route nothing new to unsubscribed subscribers (an address change in the
        configuration lifts an unsubscription, see SourceStore.sync)."""
        self._unsubscribed = await self.standing.unsubscribed()
        self.runtime = self.in_force().routing(self._unsubscribed)

    async def link_binds(self, claim: TokenClaim) -> bool:
        """Whether a genuine link may act on the subscriber it names: False when it was sent
        to an address that subscriber no longer has (an unknown subscriber: True, the action
        says it is unknown)."""
        known = await self.standing.address(claim.subscriber)
        return known is None or claim.binds(self.token_key, *known)

    async def unsubscribe(self, claim: TokenClaim) -> Unsubscription:
        """Record a one-click unsubscription, if the link was sent to the address its subscriber
        has now (a link never acts on another address)."""

        def binds(address: str | None, since: datetime | None) -> bool:
            return claim.binds(self.token_key, address, since)

        done = await self.standing.unsubscribe(claim.subscriber, self.clock(), binds)
        await self._refresh_unsubscribed()
        return done

    async def _close_mailer(self) -> None:
        if self.mailer is not None:
            await self.mailer.close()

    async def reload(self, config: Config) -> None:
        """Swap in a new configuration: new sources are polled, removed ones stopped, rules
        and subscribers updated. Sections that need a restart keep their old values."""
        kept = [
            name for name in RESTART_ONLY if getattr(config, name) != getattr(self.config, name)
        ]
        if kept:
            event("reload-needs-restart", level=logging.WARNING, sections=",".join(kept))
            config = config.model_copy(update={name: getattr(self.config, name) for name in kept})
        generation = await self.book.generation()
        merged = with_choices(config, await self.book.choices())
        runtime = self._build(merged)  # a config that cannot run changes nothing, store included
        await _load_language_model(config)
        await self.store.sync(merged, self.clock())
        self._config, self._generation = config, generation
        replaced = self.mailer
        async with self.dispatcher.lock:  # no digest is half-way through a send meanwhile
            self.runtime = runtime
        if replaced is not None and replaced is not self.mailer:  # smtp changed: its connections
            await replaced.close()
        await self._refresh_unsubscribed()
        if self.websub is not None and self.stored is None:
            await self.websub.keep_only(self.sources)
        elif self.websub is not None:  # store mode: the table decides
            await self.websub.keep_defined()
        refreeze()  # the old configuration's cycles can go
        # and the heap it held goes back to the system now: at 100,000 sources a reload left
        # 170 MB more resident, 55 MB less once trimmed (a few ms; the Trimmer waits for a
        # quiet moment that a daemon polling 100 sources a second never has)
        self.trimmer.trimming()
        event(
            "reload",
            sources=len(config.sources),
            rules=len(config.rules),
            subscribers=len(config.subscribers),
        )

    async def reload_from_file(self) -> None:
        """SIGHUP: a valid file is swapped in; an invalid one is logged and the old one kept."""
        if self.config_path is None:
            return
        try:
            # the polls go on while a child process (or a thread) loads, and a thread compares
            async with self.reloading:
                with loop_first():
                    config = await load(self.config_path, len(self.config.sources))
                    await self.reload(config)
        except ConfigError as exc:
            event(
                "reload-refused",
                level=logging.ERROR,
                path=str(self.config_path),
                problems=len(exc.problems),
            )
            for problem in exc.problems:
                event("config-error", level=logging.ERROR, problem=problem)

    async def poll(self, names: list[str]) -> list[PollReport]:
        defined = await definitions_of(self.sources, names)
        names = [n for n in names if n in defined]
        states = await self.store.states(names)
        live = [n for n in names if states[n].gone_at is None]
        for name in sorted(set(names) - set(live)):
            event("poll-skipped", source=name, reason="gone (HTTP 410): fix its url to resume")
        results = await asyncio.gather(
            *(self.poller.run_source(defined[n], states[n]) for n in live),
            return_exceptions=True,  # a store failure stops nothing half-way
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [r for r in results if isinstance(r, PollReport)]

    async def run_once(self) -> tuple[list[PollReport], list[SendReport]]:
        """Poll every source once, send whatever is due (every immediate digest, in as many
        digests of ``max_items`` as it takes), then prune the text of items older than
        ``retention.text``."""
        polls = []
        async for names in self._all_sources():
            polls += await self.poll(names)
        for report in polls:
            self.first_round.observe(report)
        sends = await self.dispatcher.flush()
        # an immediate subscriber owed more than max_items gets the rest in further digests
        # now, as the daemon's next ticks would send them: run --once leaves nothing due
        more = sends
        while any(report.result == "sent" for report in more):
            more = await self.dispatcher.flush(only_immediate=True)
            sends += more
        await self.prune()
        return polls, sends

    async def _all_sources(self) -> AsyncIterator[list[str]]:
        """Every source polled, in pages: the configuration's, or in store mode the table's
        (run --once: the one caller that wants them all)."""
        if self.stored is None:
            yield list(self.sources)
            return
        after = ""
        while page := await self.stored.definitions.names(after):
            after = page[-1]
            yield page

    async def prune(self) -> int:
        """The store's housekeeping (monitor.daemon.pruning): texts cleared, returned."""
        return await self.pruner.prune(self.clock(), self.config.retention)

    async def poll_due(self) -> None:
        """Claim the due sources and start their polls (monitor.poll.claims); returns at once."""
        await self.polling.poll_due()

    def spawn(self, coroutine: Coroutine[object, object, object]) -> None:
        task = asyncio.create_task(coroutine)
        self.background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[object]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            event(
                "task-failed",
                level=logging.ERROR,
                error=repr(task.exception()),
            )

    async def settle(self) -> None:
        """Wait for the polls in flight and the immediate sends they started."""
        while self.polling.in_flight or self.background:
            pending = [*self.polling.in_flight.values(), *self.background]
            await asyncio.gather(*pending, return_exceptions=True)

    async def heartbeat(self) -> None:
        event("heartbeat", tasks=len(asyncio.all_tasks()), polls=len(self.polling.in_flight))

    async def tick(self) -> None:
        self.ticked = time.monotonic()
        await self.follow_subscribers()
        await self.poll_due()

    async def follow_subscribers(self) -> None:
        """Put in force what subscribers changed themselves, on any replica (the store's
        generation of their choices, read once a tick). A store failure is logged: the next
        tick tries again."""
        try:
            generation = await self.book.generation()
            if generation == self._generation:
                return
            choices = await self.book.choices()
            # (a return after unsubscribing, or an unsubscription on another replica, changes
            # the generation too: who is unsubscribed is read again with the choices)
            unsubscribed = await self.standing.unsubscribed()
        except StoreError as exc:
            event("subscribers-unread", level=logging.ERROR, error=str(exc))
            return
        self._unsubscribed = unsubscribed
        try:
            runtime = self._build(with_choices(self._config, choices))
        except ConfigError as exc:  # (a choice the configuration cannot serve: logged, kept out)
            event("subscribers-refused", level=logging.ERROR, problems="; ".join(exc.problems))
            async with self.dispatcher.lock:  # (who is unsubscribed still applies)
                self.runtime = self.in_force().routing(unsubscribed)
            self._generation = generation
            return
        async with self.dispatcher.lock:  # no digest is half-way through a send meanwhile
            self.runtime = runtime
        self._generation = generation
        event("subscribers-changed", subscribers=len(runtime.subscribers))

    @staticmethod
    async def _release(*claims: Leases) -> None:
        for leases in claims:
            try:
                await leases.release()
            except StoreError as exc:  # they expire anyway
                event("lease-release-failed", level=logging.WARNING, error=str(exc))
