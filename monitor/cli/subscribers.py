"""``monitor subscribers reset NAME | remove ADDRESS | export`` (issue 24): drop what a
configured subscriber chose itself, erase a subscriber who signed up (the right to erasure),
write every subscriber as CSV. The listing itself is monitor.cli.commands.subscribers_command.
Like every command that reads the store, none makes one where there is none (exit 3)."""

from __future__ import annotations

import csv
import sys
from datetime import datetime

from monitor.config.model import Config
from monitor.delivery.subscribers import effective, owner, with_choices
from monitor.store import open_existing, open_reader
from monitor.store.standing import Standing
from monitor.store.subscribers import SIGNED_UP_MARK, SubscriberBook, normal_address

EXPORTED = (
    "name", "kind", "channel", "address", "rules", "rules_from", "digest", "digest_from",
    "language", "language_from", "max_items", "max_items_from", "paused_until", "unsubscribed_at",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run a cell starting so


async def in_force(config: Config) -> Config:
    """``config`` with the subscribers the daemon serves: each with its own choices, and those
    who signed up (monitor.delivery.subscribers); NoStore where there is no store."""
    engine = await open_reader(config.storage)
    try:
        choices = await SubscriberBook(engine).choices()
    finally:
        await engine.dispose()
    return with_choices(config, choices)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _moment(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


async def reset_command(config: Config, name: str) -> int:
    """Drop configured subscriber ``name``'s override and pause: its configuration holds."""
    if name.startswith(SIGNED_UP_MARK):
        print(
            f"monitor: {name} signed up: it has no configuration to return to "
            "(monitor subscribers remove ADDRESS erases it)",
            file=sys.stderr,
        )
        return 2
    if name not in {s.name for s in config.subscribers}:
        print(f"monitor: no subscriber named {name} in the configuration", file=sys.stderr)
        return 2
    engine = await open_existing(config.storage)
    try:
        dropped = await SubscriberBook(engine).reset(name)
    finally:
        await engine.dispose()
    if dropped:
        print(f"{name}: its own choices dropped; the running daemons apply the configuration's "
              "values from their next tick")  # fmt: skip
    else:
        print(f"{name}: nothing chosen; it has the configuration's values")
    return 0


async def remove_command(config: Config, address: str) -> int:
    """Erase the subscriber who signed up with ``address``, and its history."""
    try:
        wanted = normal_address(address)
    except ValueError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return 2
    engine = await open_existing(config.storage)
    try:  # the signed-up subscriber first: one may have signed up at a configured address
        name = await SubscriberBook(engine).remove(wanted)
    finally:
        await engine.dispose()
    if name is None:
        configured = owner(config.subscribers, wanted)
        if configured is not None:
            print(
                f"monitor: {address} is subscriber {configured} of the configuration: remove "
                "it there (the daemon keeps no history of it beyond its deliveries)",
                file=sys.stderr,
            )
            return 2
        print(f"monitor: no subscriber signed up with {wanted}", file=sys.stderr)
        return 2
    print(f"{name} ({wanted}) erased, with its deliveries and digests")
    return 0


async def export_command(config: Config) -> int:
    """Every subscriber, configured and signed up, as CSV on standard output."""
    engine = await open_reader(config.storage)
    try:
        book = SubscriberBook(engine)
        everyone = effective(config, await book.choices())
        held = await book.states()
        names = [one.subscriber.name for one in everyone]
        unsubscribed = {s.name: s.unsubscribed for s in await Standing(engine).status(names)}
    finally:
        await engine.dispose()
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(EXPORTED)
    for one in everyone:
        sub = one.subscriber
        state = held.get(sub.name)
        out.writerow(
            _cell(value)
            for value in (
                sub.name,
                "signed-up" if one.signed_up else "config",
                sub.channel,
                sub.email or "",  # (a webhook's URL may hold a token: not exported)
                "|".join(sub.rules) if sub.rules is not None else "",
                one.origin("rules"),
                sub.digest,
                one.origin("digest"),
                sub.language or "",
                one.origin("language"),
                sub.max_items,
                one.origin("max_items"),
                _moment(None if state is None else state.paused_until),
                _moment(unsubscribed.get(sub.name)),
            )
        )
    return 0
