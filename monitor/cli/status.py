"""``monitor status``: the sources, broken first, a page of them (``--limit``, ``--failing``),
or one in full (``--source NAME``); then the subscribers, as many. Whatever the number of
sources, it costs a few queries and reads no more rows than it prints (issue 25)."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.cli.times import when
from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.clock import Clock, utcnow
from monitor.core.models import SourceState
from monitor.core.redact import shown
from monitor.core.units import counted
from monitor.store import open_reader
from monitor.store.catalog import StoredSources, Unexpanded, definitions_of
from monitor.store.definitions import Definitions
from monitor.store.overview import SourceFilter, State
from monitor.store.push import PushStore, Subscription
from monitor.store.source_status import StatePage, count_sources, state_page
from monitor.store.standing import Standing, SubscriberStatus

LIMIT = 50  # sources (and subscribers) listed by default
HINTS = "--limit N, --failing, --source NAME"


async def status_command(
    config: Config,
    clock: Clock = utcnow,
    *,
    source: str | None = None,
    failing: bool = False,
    limit: int = LIMIT,
) -> int:
    """Print the status; 2 when ``source`` names no source (with the nearest name)."""
    stored = config.sources_from == "store"
    configured: Mapping[str, SourceConfig] = {s.name: s for s in config.sources}
    if source is not None and source not in configured and not stored:
        _unknown(source, list(configured))
        return 2
    engine = await open_reader(config.storage)
    try:  # read-only: a source the daemon never saw has no row yet
        if stored:  # (the definitions of what is shown, never the whole table)
            configured = StoredSources(Definitions(engine), env=Unexpanded())
        if source is not None:
            found = await definitions_of(configured, [source])
            if source not in found:
                _unknown(source, [])
                return 2
            await _one(engine, config, found[source], clock())
            return 0
        await _sources(engine, config, configured, failing, limit, clock())
        await _subscribers(engine, config, failing, limit)
    finally:
        await engine.dispose()
    return 0


def _unknown(source: str, names: list[str]) -> None:
    near = difflib.get_close_matches(source, names, n=1)
    hint = f"; did you mean {near[0]}?" if near else " (monitor status lists them)"
    print(f"monitor: no source named {source}{hint}", file=sys.stderr)


async def _page(engine: AsyncEngine, filters: SourceFilter, limit: int) -> StatePage:
    """The first ``limit`` sources ``filters`` keep, a store page (MAX_PAGE) after another."""
    states: list[SourceState] = []
    labels: list[State] = []
    after = None
    while len(states) < limit:
        page = await state_page(engine, filters, after, limit - len(states))
        states += page.states
        labels += page.labels
        after = page.after
        if after is None:
            break
    return StatePage(states, labels, after)


async def _pushes(
    engine: AsyncEngine, config: Config, names: Sequence[str]
) -> Mapping[str, Subscription]:
    pushing = config.http is not None and config.http.websub_callbacks is not None
    return await PushStore(engine).of_sources(names) if pushing and names else {}


async def _sources(
    engine: AsyncEngine,
    config: Config,
    configured: Mapping[str, SourceConfig],
    failing: bool,
    limit: int,
    now: datetime,
) -> None:
    filters = SourceFilter(failing=failing)
    page = await _page(engine, filters, limit)
    names = [state.name for state in page.states]
    pushes = await _pushes(engine, config, names)
    shown_ones = await definitions_of(configured, names)
    for state in page.states:
        print(shown(_line(state, shown_ones.get(state.name), pushes, now)))
    stored = await count_sources(engine, SourceFilter())
    matching = await count_sources(engine, filters) if failing else stored
    # added to the configuration since the daemon ran (in store mode the store is the list)
    unstored = 0 if isinstance(configured, StoredSources) else len(configured) - stored
    room = limit - len(page.states)
    if unstored > 0 and not failing and room > 0 and len(configured) <= limit:
        # a small configuration: its sources the store lacks are listed, never polled
        known = await _known_names(engine, list(configured))
        for missing in [s for s in config.sources if s.name not in known][:room]:
            print(shown(_line(SourceState(missing.name, missing.url), missing, {}, now)))
            room -= 1
            unstored -= 1
    more = matching - len(page.states)
    if more > 0:
        kind = "failing sources" if failing else "sources"
        print(f"… and {more:,} more {kind} ({HINTS})")
    elif failing and not page.states:
        print(f"no failing source (of {stored:,})")
    if unstored > 0:
        print(
            f"… and {unstored:,} configured sources not in the store yet: "
            "the daemon adds them when it starts"
        )


async def _known_names(engine: AsyncEngine, names: Sequence[str]) -> set[str]:
    page = await _page(engine, SourceFilter(among=names), len(names))
    return {state.name for state in page.states}


def _line(
    state: SourceState,
    source: SourceConfig | None,
    pushes: Mapping[str, Subscription],
    now: datetime,
) -> str:
    if source is None:  # in the store, no longer in the configuration (the daemon drops it)
        return _source_line(f"{state.name} (not in the configuration)", state, now)
    named = source.name if source.kind == "feed" else f"{source.name} ({source.kind})"
    line = _source_line(named, state, now)
    if source.kind == "auto":
        found = state.url if state.url != source.url else "not yet (at its next poll)"
        line += f", feed found: {found}"
    if source.name in pushes:
        line += _push_part(pushes[source.name], now)
    return line


async def _one(engine: AsyncEngine, config: Config, source: SourceConfig, now: datetime) -> None:
    """One source in full: its state as the overview says it, then each part on a line."""
    page = await state_page(engine, SourceFilter(name=source.name), None, 1)
    state = page.states[0] if page.states else SourceState(source.name, source.url)
    label: str = page.labels[0] if page.labels else "new (not in the store yet)"
    if state.health != "ok" and state.health_since is not None and label != "gone":
        label += f" since {when(state.health_since, now)}"
    if state.gone_at is not None:
        label += f" since {when(state.gone_at, now)} (answered 410 Gone: fix its url)"
    pushes = await _pushes(engine, config, [source.name])
    last = "never" if state.last_poll_at is None else when(state.last_poll_at, now)
    result = (state.last_result or "-") + (f" {state.last_status}" if state.last_status else "")
    lines = [
        f"source {source.name} ({source.kind}): {label}",
        f"  url: {state.url}",
        f"  last poll: {last}, {result}, new items {state.last_new_items}, "
        f"matches {state.last_matches}, errors in a row {state.error_count}",
        f"  error: {state.last_error or 'none'}",
        "  next due: " + ("never" if state.gone_at else when(state.next_due_at, now)),
        "  push: " + (_push_part(pushes[source.name], now)[2:] if pushes else "none (polled)"),
    ]
    if state.redirect_url:
        count = counted(state.redirect_count, "poll")
        lines.append(f"  moved permanently to {state.redirect_url} ({count})")
    for line in lines:
        print(shown(line))  # URLs redacted, a remote server's control characters escaped


def _source_line(name: str, st: SourceState, now: datetime) -> str:
    last = "never polled" if st.last_poll_at is None else when(st.last_poll_at, now)
    result: str = st.last_result or "-"
    if st.last_status:
        result += f" {st.last_status}"
    due = "never (gone: fix its url)" if st.gone_at else when(st.next_due_at, now)
    line = (
        f"source {name}: last poll {last}, {result}, new items {st.last_new_items}, "
        f"errors {st.error_count}, next due {due}"
    )
    if st.health != "ok" and st.health_since is not None:
        line += f", {st.health} since {when(st.health_since, now)}"
    if st.redirect_url:
        line += f", moved permanently to {st.redirect_url} ({counted(st.redirect_count, 'poll')})"
    if st.last_error:
        line += f", error: {st.last_error}"
    return line


def _push_part(sub: Subscription, now: datetime) -> str:
    """Where a source stands with the hub its feed names (WebSub)."""
    if sub.delivering(now):
        last = "none yet" if sub.last_push_at is None else when(sub.last_push_at, now)
        return f", pushed by {sub.hub} (lease ends {when(sub.lease_until, now)}, last push {last})"
    if sub.lease_until is not None and sub.lease_until > now and sub.quiet_since is not None:
        return f", hub {sub.hub} quiet since {when(sub.quiet_since, now)}: polled on its interval"
    problem = f": {sub.last_error}" if sub.last_error else " (awaiting the hub's verification)"
    return f", hub {sub.hub} not subscribed{problem}"


async def _subscribers(engine: AsyncEngine, config: Config, failing: bool, limit: int) -> None:
    """The first ``limit`` subscribers (with ``failing``, those with failing or dead digests,
    or disabled), each on a line."""
    names = [s.name for s in config.subscribers]
    if failing:
        configured = set(names)
        troubled = await Standing(engine).troubled(limit + 1)
        names = [name for name in troubled if name in configured]
    for sub in await Standing(engine).status(names[:limit]):
        print(shown(_subscriber_line(sub)))  # URLs redacted, control characters escaped
    if len(names) > limit:
        more = "more failing subscribers" if failing else f"{len(names) - limit:,} more subscribers"
        print(f"… and {more} (--limit N; monitor status --subscriber NAME)")


def _subscriber_line(sub: SubscriberStatus) -> str:
    line = (
        f"subscriber {sub.name}: pending {sub.pending}, failed {sub.failed}, "
        f"dead {sub.dead}, digests sent {sub.digests_sent}, items sent {sub.sent}"
    )
    if sub.unsubscribed:
        line += f", unsubscribed since {sub.unsubscribed:%Y-%m-%d %H:%M} UTC"
    elif sub.disabled:
        line += f", DISABLED until its address changes: {sub.disabled}"
    elif sub.last_error and (sub.failed or sub.dead):
        line += f", last error: {sub.last_error}"
    return line
