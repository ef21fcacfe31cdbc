"""The daemon's polling: this replica claims the sources that are due (their leases: another
replica polls none of them meanwhile) as far as its free polling slots go, starts a poll for
each, and claims again when the next source falls due or a poll ends; what the polls' matches
make due to immediate subscribers is sent at once."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.backoff import next_due
from monitor.core.logs import event
from monitor.delivery.dispatch import Dispatcher
from monitor.poll.pipeline import Poller
from monitor.poll.pushes import Pushes
from monitor.poll.reach import FirstRound
from monitor.poll.report import PollReport
from monitor.store.catalog import definitions_of
from monitor.store.leases import Leases
from monitor.store.sources import SourceStore, claim_due

# the scheduler's poll tick (monitor.daemon.jobs); the claim loop wakes up sooner when a source
# is due sooner
POLL_TICK = timedelta(seconds=5)
# a claim waits this long after the next due time, for the sources due close behind it: at 1,000
# polls a second, one claim of ~50 sources instead of 50 claims, each poll at most this late
CLAIM_GATHER = timedelta(milliseconds=50)
# no poll in flight and none due within this: the parse workers stop (about 30 MB each) until
# the next parse, which pays their start-up (a few tenths of a second)
PARSERS_REST = timedelta(seconds=30)


def claim_delay(until_due: timedelta) -> float:
    """Seconds to wait before claiming, when the next source is due in ``until_due`` (already
    due, by a lease another replica holds: a short wait, not a busy loop)."""
    return max(until_due, timedelta(0)).total_seconds() + CLAIM_GATHER.total_seconds()


Spawn = Callable[[Coroutine[object, object, object]], None]  # a task the App waits for
LONG_AGO = datetime.min.replace(tzinfo=UTC)


class ClaimRuntime(Protocol):
    """What a claim reads of the configuration in force (monitor.runtime.Runtime is one)."""

    @property
    def config(self) -> Config: ...
    @property
    def sources(self) -> Mapping[str, SourceConfig]: ...


@dataclass
class ClaimLoop:
    runtime: Callable[[], ClaimRuntime]  # the configuration in force, read at each claim
    leases: Leases
    store: SourceStore
    poller: Poller
    dispatcher: Dispatcher
    clock: Callable[[], datetime]
    spawn: Spawn
    poll_ended: Callable[[], None]
    websub: Pushes | None = None  # told the hub each feed read names
    first_round: FirstRound | None = None  # told each report: did any source answer?
    in_flight: dict[str, asyncio.Task[PollReport]] = field(default_factory=dict)
    stopping: bool = False
    _more_due: bool = False  # the last claim of due sources was cut by the free slots
    _wake: asyncio.TimerHandle | None = None  # the claim when the next source is due
    _wake_at: datetime = LONG_AGO  # (that due time)
    _flushing: bool = False  # an immediate flush started by polls is running
    _flush_again: bool = False  # and a poll that ended since asks for another
    _claiming: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def poll_due(self) -> None:
        """Claim due sources as far as free polling slots go, and start a poll for each;
        returns at once. One claim at a time: two would both get this replica's own leases,
        and a poll ending in between could start again."""
        async with self._claiming:
            await self._claim_and_poll()

    def stop(self) -> None:
        """No claim from now on (polls in flight go on)."""
        self.stopping = True
        if self._wake is not None:
            self._wake.cancel()

    async def _claim_and_poll(self) -> None:
        now, rt = self.clock(), self.runtime()
        config, sources = rt.config, rt.sources
        room = 2 * config.network.concurrency - len(self.in_flight)
        if room <= 0:
            return
        until = now + config.cluster.lease
        claimed = await claim_due(self.leases, now, until, limit=room, skip=list(self.in_flight))
        self._more_due = len(claimed) == room  # claim again as soon as a poll ends
        # the claimed ones' definitions: the configuration's, or in store mode read now
        defined = await definitions_of(sources, claimed)
        undefined = [n for n in claimed if n not in defined]
        if undefined and config.sources_from == "store":
            # a row no load defined (left by sources_from: config), or whose definition this
            # version cannot read: tried again an interval later, not at every claim
            later = now + config.defaults.interval
            await self.store.reserve(dict.fromkeys(undefined, later))
        # a source another replica's newer configuration added: that replica polls it
        await self.leases.release(undefined)
        states = await self.store.states(list(defined))
        await self.store.reserve(
            {
                name: next_due(state.next_due_at, now, self.poller.interval(config, defined[name]))
                for name, state in states.items()
                if name in defined
            }
        )
        if self.runtime().sources is not sources:  # a reload during the reads above
            sources = self.runtime().sources
            defined = {name: sources[name] for name in defined if name in sources}
        for name, state in states.items():
            if name in self.in_flight or name not in defined:
                continue  # a poll that ended, or a source removed, during the reads above
            task = asyncio.create_task(self.poller.run_source(defined[name], state))
            self.in_flight[name] = task
            task.add_done_callback(functools.partial(self._polled, name))
        if not self._more_due:
            await self._wake_when_due(now)

    async def _wake_when_due(self, now: datetime) -> None:
        """Claim again when the next source falls due (a little after, so that the sources
        due close together are claimed together), rather than at the next tick: a source is
        polled on time, not up to a tick late. Sources being polled are not in the store's
        answer: each poll's end names its own next due time (_polled). Nothing to parse for a
        while: the parse workers rest."""
        at = await self.store.next_due(self.leases.owner, now, list(self.in_flight))
        if not self.in_flight and (at is None or at - now >= PARSERS_REST):
            self.poller.parser.rest()
        if at is not None:
            self.wake_by(at)

    def wake_by(self, at: datetime) -> None:
        """Make sure a claim runs soon after ``at``."""
        if self.stopping or (self._wake is not None and self._wake_at <= at):
            return
        delay = claim_delay(at - self.clock())
        if delay >= POLL_TICK.total_seconds():
            return  # the tick comes first
        if self._wake is not None:
            self._wake.cancel()
        self._wake, self._wake_at = asyncio.get_running_loop().call_later(delay, self._woken), at

    def _woken(self) -> None:
        self._wake = None
        if not self.stopping:
            self.spawn(self.poll_due())

    def _polled(self, name: str, task: asyncio.Task[PollReport]) -> None:
        self.in_flight.pop(name, None)
        self.poll_ended()
        # refilled by half the connections at a time: at a backlog, one claim per poll ending
        # would cost three statements a poll
        concurrency = self.runtime().config.network.concurrency
        refill = max(1, concurrency // 2)
        room = 2 * concurrency - len(self.in_flight)
        if self._more_due and not self.stopping and room >= refill:
            self._more_due = False
            self.spawn(self.poll_due())
        if task.cancelled():
            return
        if task.exception() is not None:
            event("poll-crash", level=logging.ERROR, source=name, error=repr(task.exception()))
            return
        report = task.result()
        if self.first_round is not None:
            self.first_round.observe(report)
        if report.next_due_at is not None and not self._more_due:
            self.wake_by(report.next_due_at)
        if self.websub is not None and report.result == "ok":
            if self.websub.links.get(name) != report.hub:  # (a task only when it changed)
                self.spawn(self.websub.noticed(name, report.hub))
        if report.matched_items:
            self.flush_soon()

    def flush_soon(self) -> None:
        """Send what the matches of polls (or of a hub's delivery) made due to immediate
        subscribers. Those that end while a flush runs share the next one (at a thousand polls
        a second, a flush per matching poll would be a hundred flushes a second), which starts
        once it ends."""
        if self._flushing:
            self._flush_again = True
            return
        self._flushing = True
        self.spawn(self._flush_immediate())

    async def _flush_immediate(self) -> None:
        try:
            self._flush_again = True
            while self._flush_again:
                self._flush_again = False
                await self.dispatcher.flush(only_immediate=True)
        finally:
            self._flushing = False
