"""Source health: a notice when a source breaks and one when it recovers, never one per poll.

A source is ``failing`` once its polls have failed without a break for ``defaults.health_after``
(at once when it answered 410 Gone: it is not polled again), and ``silent`` once it has brought
no new item for longer than its usual rhythm: three times the median gap between its last
arrivals (the distinct times a poll brought new items), and at least ``health_after``. A rhythm
is only known after MIN_ARRIVALS arrivals: one first poll brings a whole backlog at one instant
and says nothing about how often the source publishes. The next successful poll ends a failure,
the next new item a silence; silence is then counted afresh from the recovery.

A notice is an item of the source (key ``health:…``, no link) owed, through the outbox, to every
subscriber with ``health: true`` under the rule ``source-health``: it has every delivery
guarantee of an alert (retries, dead letters, held while a receiver is gone) and reaches each
subscriber in its next digest, in its language. The state change and the notice are written in
one transaction, so a notice is neither lost nor written twice.
"""

from __future__ import annotations

import itertools
import logging
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.core.logs import event
from monitor.core.models import (
    FAILING,
    NOTICE_KEY_PREFIX,
    OK,
    SILENT,
    HealthState,
    Item,
    SourceState,
)
from monitor.digest.i18n import duration_text, health_strings
from monitor.store.batcher import Batcher
from monitor.store.health import Notice as OwedNotice
from monitor.store.health import arrivals, record_health

HEALTH_RULE = "source-health"
MIN_ARRIVALS = 5
RHYTHM_GAPS = 10  # the gaps between the last arrivals that make a source's rhythm
RHYTHM_FACTOR = 3
MAX_ERROR = 200  # characters of the error quoted in a title


@dataclass(frozen=True, slots=True)
class Health:
    """What the store remembers of a source's health."""

    state: HealthState = OK
    since: datetime | None = None  # when the state began (for ok: when it last recovered)
    failing_since: datetime | None = None  # the first failure of the current run of failures


@dataclass(frozen=True, slots=True)
class PollSeen:
    """What one poll of a source told about its health."""

    source: str
    at: datetime
    error: str | None = None  # None: the poll succeeded
    gone: bool = False  # 410 Gone: the source is not polled again
    new_items: int = 0


@dataclass(frozen=True, slots=True)
class Notice:
    """A change of health worth telling the subscribers who asked."""

    source: str
    state: HealthState  # the new state (ok: recovered)
    at: datetime  # when it was seen
    since: datetime  # when the trouble began (also for a recovery)
    previous: HealthState = OK  # for a recovery: failing or silent
    error: str | None = None  # failing: the last error
    rhythm: timedelta | None = None  # silent: the silence it exceeded

    @property
    def key(self) -> str:
        """Unique per event: one source takes one state at most once at one instant."""
        return f"{NOTICE_KEY_PREFIX}{self.state}:{self.at.isoformat()}"


def silence_limit(arrivals: Sequence[datetime], threshold: timedelta) -> timedelta | None:
    """How long the source may bring nothing new, from its arrivals (newest first); None while
    fewer than MIN_ARRIVALS are known."""
    recent = sorted(set(arrivals), reverse=True)[: RHYTHM_GAPS + 1]
    if len(recent) < MIN_ARRIVALS:
        return None
    gaps = [(newer - older).total_seconds() for newer, older in itertools.pairwise(recent)]
    return max(timedelta(seconds=statistics.median(gaps)) * RHYTHM_FACTOR, threshold)


def needs_arrivals(health: Health, poll: PollSeen) -> bool:
    """Whether :func:`assess` looks at the arrivals (so they are read only then)."""
    return poll.error is None and poll.new_items == 0 and health.state == OK


def assess(
    health: Health, poll: PollSeen, threshold: timedelta, arrivals: Sequence[datetime] = ()
) -> tuple[Health, Notice | None]:
    """The health after ``poll``, and the notice when it changed state."""
    if poll.error is not None:
        start = health.failing_since or poll.at
        if health.state == FAILING or not (poll.gone or poll.at - start >= threshold):
            return replace(health, failing_since=start), None
        return Health(FAILING, start, start), Notice(
            poll.source, FAILING, poll.at, start, health.state, error=poll.error
        )
    if health.state == FAILING or (health.state == SILENT and poll.new_items):
        began = health.since or poll.at
        return Health(OK, poll.at), Notice(poll.source, OK, poll.at, began, health.state)
    cleared = replace(health, failing_since=None)
    limit = silence_limit(arrivals, threshold) if needs_arrivals(health, poll) else None
    if limit is None:
        return cleared, None
    last = max(arrivals)
    quiet = max(last, health.since) if health.since else last
    if poll.at - quiet <= limit:
        return cleared, None
    return Health(SILENT, quiet), Notice(poll.source, SILENT, poll.at, quiet, rhythm=limit)


def notice_text(notice: Notice, language: str) -> tuple[str, str]:
    """The title and summary of a notice in ``language``."""
    words = health_strings(language)
    # (the poll's error as recorded: already redacted, monitor.poll.pipeline)
    error = " ".join((notice.error or "").split())[:MAX_ERROR]
    values = {
        "source": notice.source,
        "duration": duration_text(language, notice.at - notice.since),
        "error": error,
        "rhythm": duration_text(language, notice.rhythm or timedelta(0)),
    }
    if notice.state == FAILING:
        return words.failing.format(**values), words.failing_summary.format(**values)
    if notice.state == SILENT:
        return words.silent.format(**values), words.silent_summary.format(**values)
    title = words.recovered_silent if notice.previous == SILENT else words.recovered_failing
    return title.format(**values), words.recovered_summary.format(**values)


def recipients(config: Config) -> dict[str, str]:
    """The subscribers who asked for notices, with their language."""
    return {s.name: s.language or config.language for s in config.subscribers if s.health}


class HealthWatch:
    """Applies :func:`assess` after each recorded poll and writes what changed.

    The arrivals a silence check reads are kept per source between polls (most polls bring
    nothing new and would read them again): with the time of the poll they are current after,
    they stand for the next poll only if it follows that one (no other replica polled in
    between); otherwise they are read again."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._arrivals: dict[str, tuple[datetime, tuple[datetime, ...]]] = {}
        self._reads = Batcher(self._arrivals_of, "arrivals not read")

    async def observe(self, config: Config, state: SourceState, poll: PollSeen) -> Notice | None:
        """Call after a poll is recorded, with the state read before it; writes the new health
        (and the notice, if any) only when something changed."""
        # a count reset by a new URL starts a new run of failures
        failing_since = state.failing_since if state.error_count else None
        current = Health(state.health, state.health_since, failing_since)
        needed = needs_arrivals(current, poll)
        known = self._known(state, poll.source)
        if known is None and needed:
            known = tuple(await self.arrivals(poll.source))
        self._remember(poll, known)
        arrivals = list(known or ()) if needed else []
        new, notice = assess(current, poll, config.defaults.health_after, arrivals)
        if new == current:
            return None
        owed = self._owed(notice, recipients(config)) if notice is not None else []
        health = (new.state, new.since, new.failing_since)
        await record_health(self.engine, poll.source, health, owed, HEALTH_RULE, poll.at)
        if notice is not None:
            event(
                "source-health",
                level=logging.INFO if notice.state == OK else logging.WARNING,
                source=notice.source,
                health=notice.state,
                since=notice.since.isoformat(),
                subscribers=len(recipients(config)),
            )
        return notice

    def _known(self, state: SourceState, source: str) -> tuple[datetime, ...] | None:
        """The source's arrivals before this poll, if kept and current (see the class)."""
        kept = self._arrivals.get(source)
        if kept is None or kept[0] != state.last_poll_at:
            return None
        return kept[1]

    def _remember(self, poll: PollSeen, known: tuple[datetime, ...] | None) -> None:
        """Keep the arrivals as this poll leaves them (it was recorded already)."""
        if known is None or poll.error is not None:
            self._arrivals.pop(poll.source, None)
            return
        if poll.new_items:  # its items were stored with the poll's time
            known = tuple(sorted({poll.at, *known}, reverse=True)[: RHYTHM_GAPS + 1])
        self._arrivals[poll.source] = (poll.at, known)

    async def arrivals(self, source: str) -> list[datetime]:
        """The last distinct times a poll brought new items of ``source``, newest first. The
        reads of polls ending together share one query (a start's first polls all read)."""
        return await self._reads.submit(source)

    async def _arrivals_of(self, names: Sequence[str]) -> list[list[datetime]]:
        found = await arrivals(self.engine, names, RHYTHM_GAPS + 1)
        return [found[name] for name in names]

    def _owed(self, notice: Notice, to: Mapping[str, str]) -> list[OwedNotice]:
        """One notice item per language, owed to each subscriber in its own."""
        owed = []
        for language in sorted(set(to.values())):
            title, summary = notice_text(notice, language)
            item = Item(
                notice.source, f"{notice.key}:{language}", "", title, summary, "", notice.at
            )
            chosen = sorted(name for name, theirs in to.items() if theirs == language)
            owed.append(OwedNotice(item, chosen))
        return owed
