"""The bodies of the commands that need the event loop (run, test-rule, digest, status,
retry, subscribers)."""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from yarl import URL

from monitor.cli.times import due as _due
from monitor.cli.times import local as _local
from monitor.cli.times import when as _when
from monitor.config.model import Config
from monitor.config.subscribers import SubscriberConfig
from monitor.core.clock import Clock, utcnow
from monitor.core.logs import setup
from monitor.core.memory import freeze
from monitor.core.redact import printable, redact_url, shown
from monitor.core.units import counted
from monitor.daemon.app import App
from monitor.daemon.forever import install_signal_handlers, run_forever
from monitor.delivery.subscribers import Effective, effective
from monitor.digest.render import Renderer, load_templates
from monitor.store import engine_url, open_existing, open_reader
from monitor.store.history import history, last_sent, requeue_dead
from monitor.store.lock import single_instance
from monitor.store.outbox import Outbox
from monitor.store.schema import migrate
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


def next_digest(
    sub: SubscriberConfig, status: SubscriberStatus, start: datetime | None, zone: ZoneInfo,
    now: datetime,
) -> str:  # fmt: skip
    """When the subscriber's next digest is due, in words."""
    if status.unsubscribed or status.disabled:
        return "none"
    due = sub.digest.next_digest(start, now, zone)
    return "at each match" if due is None else f"{_local(due, zone)} ({_due(due, now)})"


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
