"""The bodies of the commands that need the event loop (run, test-rule, digest, status,
retry, subscribers)."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.clock import Clock, utcnow
from monitor.core.logs import setup
from monitor.core.memory import freeze
from monitor.core.models import SourceState
from monitor.core.redact import printable, redact_url, shown
from monitor.core.units import counted
from monitor.daemon.app import App
from monitor.daemon.forever import install_signal_handlers, run_forever
from monitor.delivery.subscribers import Effective, effective
from monitor.digest.render import Renderer, load_templates
from monitor.store import engine_url, open_existing, open_reader
from monitor.store.catalog import stored_pages
from monitor.store.definitions import Definitions
from monitor.store.history import history, last_sent, requeue_dead
from monitor.store.lock import single_instance
from monitor.store.outbox import Outbox
from monitor.store.push import PushStore, Subscription
from monitor.store.schema import migrate
from monitor.store.sources import SourceStore
from monitor.store.standing import Standing, SubscriberStatus
from monitor.store.subscribers import SubscriberBook


async def run_command(config: Config, path: str, once: bool, log_level: str) -> int:
    setup(log_level, config.log_format)
    async with App(config, config_path=Path(path)) as app:
        freeze(collect=not once)  # what was loaded to start lives as long as the daemon
        if once:
            await app.run_once()
            return 0
        stop = asyncio.Event()
        install_signal_handlers(app, stop)
        await run_forever(app, stop)
    return 0


async def digest_command(config: Config, subscriber: str, fmt: str, clock: Clock = utcnow) -> int:
    if _known(config, [subscriber]) is None:
        return 2
    renderer = Renderer.for_config(config, load_templates(config.templates))
    sub = next(s for s in config.subscribers if s.name == subscriber)
    engine = await open_reader(config.storage)
    try:  # the digest that would go out next, and how many would still wait; nothing changes
        digest = await Outbox(engine).preview(subscriber, clock(), sub.max_items)
    finally:
        await engine.dispose()
    if not digest.items:  # (an empty digest would read as one sent, with its footer)
        print(f"{subscriber}: nothing pending", file=sys.stderr)
        return 0
    print(printable(renderer.html(digest) if fmt == "html" else renderer.text(digest), lines=True))
    return 0


def _when(value: datetime | None, now: datetime) -> str:
    """``5m ago``, ``2h from now``; a missing due time means due now."""
    if value is None:
        return "now"
    delta = (value - now).total_seconds()
    suffix = "ago" if delta <= 0 else "from now"
    seconds = round(abs(delta))
    name, size = next(
        (n, s)
        for n, s in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
        if seconds >= s or s == 1
    )
    return f"{seconds // size}{name} {suffix}"


def _due(value: datetime, now: datetime) -> str:
    """``5m from now``; ``now`` once past (the daemon takes it at its next tick)."""
    return _when(value, now) if value > now else "now"


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def next_digest(
    sub: SubscriberConfig, status: SubscriberStatus, start: datetime | None, zone: ZoneInfo,
    now: datetime,
) -> str:  # fmt: skip
    """When the subscriber's next digest is due, in words."""
    if status.unsubscribed or status.disabled:
        return "none"
    due = sub.digest.next_digest(start, now, zone)
    return "at each match" if due is None else f"{_local(due, zone)} ({_due(due, now)})"


async def status_command(config: Config, clock: Clock = utcnow) -> int:
    engine = await open_reader(config.storage)
    now = clock()
    try:  # read-only: a source never polled has no row yet
        subscribers = await Standing(engine).status([s.name for s in config.subscribers])
        pushing = config.http is not None and config.http.websub_callbacks is not None
        subscriptions = await PushStore(engine).all() if pushing else []  # (none while off)
        pushes = {sub.source: sub for sub in subscriptions if sub.wanted}
        async for page in _source_pages(config, engine):
            states = await SourceStore(engine).states([s.name for s in page])
            for source in page:
                _print_source(source, states.get(source.name), pushes, now)
    finally:
        await engine.dispose()
    for sub in subscribers:
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
        print(shown(line))  # URLs redacted, a remote server's control characters escaped
    return 0


async def _source_pages(config: Config, engine: AsyncEngine) -> AsyncIterator[list[SourceConfig]]:
    """The configured sources; in store mode the store's, a page at a time."""
    if config.sources_from == "store":
        async for page in stored_pages(Definitions(engine)):
            yield page
    else:
        yield list(config.sources)


def _print_source(
    source: SourceConfig,
    state: SourceState | None,
    pushes: Mapping[str, Subscription],
    now: datetime,
) -> None:
    state = state or SourceState(source.name, source.url)
    named = source.name if source.kind == "feed" else f"{source.name} ({source.kind})"
    line = _source_line(named, state, now)
    if source.kind == "auto":
        found = state.url if state.url != source.url else "not yet (at its next poll)"
        line += f", feed found: {found}"
    if source.name in pushes:
        line += _push_part(pushes[source.name], now)
    print(shown(line))  # URLs redacted, a remote server's control characters escaped


def _source_line(name: str, st: SourceState, now: datetime) -> str:
    last = "never polled" if st.last_poll_at is None else _when(st.last_poll_at, now)
    result: str = st.last_result or "-"
    if st.last_status:
        result += f" {st.last_status}"
    due = "never (gone: fix its url)" if st.gone_at else _when(st.next_due_at, now)
    line = (
        f"source {name}: last poll {last}, {result}, new items {st.last_new_items}, "
        f"errors {st.error_count}, next due {due}"
    )
    if st.health != "ok" and st.health_since is not None:
        line += f", {st.health} since {_when(st.health_since, now)}"
    if st.redirect_url:
        line += f", moved permanently to {st.redirect_url} ({counted(st.redirect_count, 'poll')})"
    if st.last_error:
        line += f", error: {st.last_error}"
    return line


def _push_part(sub: Subscription, now: datetime) -> str:
    """Where a source stands with the hub its feed names (WebSub)."""
    if sub.delivering(now):
        last = "none yet" if sub.last_push_at is None else _when(sub.last_push_at, now)
        return f", pushed by {sub.hub} (lease ends {_when(sub.lease_until, now)}, last push {last})"
    if sub.lease_until is not None and sub.lease_until > now and sub.quiet_since is not None:
        return f", hub {sub.hub} quiet since {_when(sub.quiet_since, now)}: polled on its interval"
    problem = f": {sub.last_error}" if sub.last_error else " (awaiting the hub's verification)"
    return f", hub {sub.hub} not subscribed{problem}"


def _known(config: Config, names: list[str]) -> list[str] | None:
    unknown = sorted(set(names) - {s.name for s in config.subscribers})
    if unknown:
        print(f"monitor: no subscriber named {', '.join(unknown)}", file=sys.stderr)
        return None
    return names


async def history_command(config: Config, subscriber: str, clock: Clock = utcnow) -> int:
    if _known(config, [subscriber]) is None:
        return 2
    engine = await open_reader(config.storage)
    try:
        rows = await history(engine, subscriber)
    finally:
        await engine.dispose()
    now = clock()
    for row in rows:
        line = f"{row.state:<7} {_when(row.when, now):<14} {row.digest or '-':<27} {row.title}"
        if row.state in ("failed", "dead") and row.error:
            line += f"  [{counted(row.attempts, 'attempt')}: {row.error}]"
        if row.next_try is not None:
            line += f"  next try {_due(row.next_try, now)}"
        print(shown(line))  # URLs redacted, a remote server's control characters escaped
    if not rows:
        print(f"subscriber {subscriber}: nothing delivered or owed yet")
    return 0


async def retry_command(
    config: Config, subscribers: list[str] | None, clock: Clock = utcnow
) -> int:
    names = _known(config, subscribers or [s.name for s in config.subscribers])
    if names is None:
        return 2
    engine = await open_existing(config.storage)  # nothing to re-queue in a store never made
    try:
        count = await requeue_dead(engine, names, clock())
    finally:
        await engine.dispose()
    print(
        f"{counted(count, 'dead digest')} re-queued; the running daemon sends them at its next tick"
    )
    return 0


async def db_upgrade_command(config: Config) -> int:
    """Bring the store's schema to this version (after an upgrade of monitor). On SQLite it
    takes the daemon's lock, so it never runs under a running daemon."""
    where = redact_url(config.storage)
    with single_instance(config.storage):
        versions = await migrate(engine_url(config.storage), where, upgrade=True)
    if versions.before == versions.after:
        print(f"storage {where}: schema already at version {versions.after}")
    elif versions.before is None:
        print(f"storage {where}: schema created at version {versions.after}")
    else:
        print(f"storage {where}: schema upgraded from {versions.before} to {versions.after}")
    return 0


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,30}")


def channel_target(sub: SubscriberConfig) -> str:
    """The channel and where it goes, safe to print: an address, a webhook's host, an Apprise
    URL's scheme; never a URL's path or query (they often hold a token) nor a secret."""
    if sub.email is not None:
        return f"email {sub.email}"
    if sub.webhook is not None:
        return f"webhook {URL(sub.webhook).host}"
    if sub.apprise is not None:
        scheme, found, _ = sub.apprise.get_secret_value().partition("://")
        return f"apprise {scheme if found and _SCHEME.fullmatch(scheme) else '?'}"
    return "console"


async def subscribers_command(config: Config, clock: Clock = utcnow) -> int:
    """One line per subscriber, those of the configuration then those who signed up: channel,
    rules, cadence, state (paused, unsubscribed, …), last delivery, when its next digest is
    due (in the configuration's time zone), pending. A value the subscriber chose itself says
    so ("own choice"); the configuration gave the others."""
    engine = await open_reader(config.storage)
    try:  # read-only; a subscriber the daemon never saw has no rows yet
        book = SubscriberBook(engine)
        everyone = effective(config, await book.choices())
        names = [one.subscriber.name for one in everyone]
        states = {s.name: s for s in await Standing(engine).status(names)}
        held = await book.states()
        last = await last_sent(engine)
        starts = await Outbox(engine).period_starts(names)
    finally:
        await engine.dispose()
    now, zone = clock(), config.zone
    for one in everyone:
        sub, status = one.subscriber, states[one.subscriber.name]

        def own(key: str, one: Effective = one) -> str:
            return " (own choice)" if one.origin(key) == "choice" and not one.signed_up else ""

        rules = f"rules: {', '.join(sub.rules)}" if sub.rules is not None else "all rules"
        state = "active"
        paused = held[sub.name].paused_until if sub.name in held else None
        if status.unsubscribed:
            state = "unsubscribed"
        elif status.disabled:
            state = "disabled: " + shown(" ".join(status.disabled.split()))
        elif paused is not None and paused > now:
            state = f"paused until {_local(paused, zone)}"
        sent = last.get(sub.name)
        when = "never" if sent is None else f"{_local(sent, zone)} ({_when(sent, now)})"
        upcoming = next_digest(sub, status, starts.get(sub.name), zone, now)
        if state.startswith("paused"):
            upcoming = "after the pause"
        kind = ", signed up" if one.signed_up else ""
        chosen = "".join(
            f"; {key.replace('_', ' ')}: {getattr(sub, key)}{own(key)}"
            for key in ("language", "max_items")
            if one.origin(key) == "choice" and not one.signed_up
        )
        print(
            f"{sub.name}: {channel_target(sub)}{kind}; {rules}{own('rules')}; "
            f"digest: {sub.digest}{own('digest')}{chosen}; {state}; "
            f"last delivery: {when}; next digest: {upcoming}; pending: {status.pending}"
        )
    if not everyone:
        print("no subscribers")
    return 0
