"""What subscribers chose themselves (issue 24, DESIGN §3.8): the subscribers who signed up,
the overrides of the configuration's subscribers, pauses, and the erasure of a signed-up
subscriber with its history. What the daemon makes of them (the effective subscribers) is
monitor.delivery.subscribers; this module only reads and writes them.

Every change bumps the ``subscribers_generation`` setting, which each replica reads once a
scheduler tick: a change made on one replica is in force on all of them within a tick.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import idna
from sqlalchemy import Integer, Text, cast, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.config.subscribers import SubscriberConfig
from monitor.store import ignoring, insert_ignore, reading, transaction
from monitor.store.among import one_of
from monitor.store.tables import (
    digests,
    outbox,
    settings,
    signup_requests,
    subscriber_choices,
    subscribers,
)

GENERATION = "subscribers_generation"
# starts a signed-up subscriber's name; a configured name never does (":" is not in a Name), nor
# a spreadsheet formula (as "+" would in an export), nor a shell word (as "~")
SIGNED_UP_MARK = "signup:"
CHOSEN = ("rules", "digest", "language", "max_items")  # what a subscriber may choose
_UNSAFE = frozenset("\r\n\t\0 <>,;:\"'()[]\\")


def _unsafe(char: str) -> bool:
    # a control or a separator can break a header, and an address the configuration refuses
    # (SubscriberConfig) would stop the daemon that reads it: none is kept
    return char in _UNSAFE or char.isspace() or unicodedata.category(char)[0] in "ZC"


def normal_address(address: str) -> str:
    """``address`` as the store keeps it: the domain in IDNA (ASCII) and lower case, the local
    part as given; ValueError, in words, if it is not one plain address."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or any(_unsafe(c) for c in local + domain):
        raise ValueError(f"not an email address: {address!r}")
    if "@" in local or len(local) > 64:
        raise ValueError(f"not an email address: {address!r}")
    try:  # UTS 46 / IDNA 2008: "straße" stays itself (IDNA 2003 made it "strasse")
        ascii_domain = idna.encode(domain.rstrip("."), uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"not an email address (its domain): {address!r}") from exc
    if "." not in ascii_domain or ascii_domain.startswith(".") or ".." in ascii_domain:
        raise ValueError(f"not an email address (its domain): {address!r}")
    return f"{local}@{ascii_domain}"


def mailbox(address: str) -> str:
    """The key an address is compared on (the limits, "never subscribed twice", erasure):
    :func:`normal_address` in lower case, local part included, as mail systems treat it; mail
    still goes to the address as given. Not ``casefold()``: it would make ``straße@`` and
    ``strasse@`` one mailbox. ValueError as :func:`normal_address`."""
    return normal_address(address).lower()


@dataclass(frozen=True, slots=True)
class Choice:
    """A row of ``subscriber_choices``: a signed-up subscriber, or an override (None: the
    configuration's value)."""

    name: str
    address: str
    signed_up: bool
    rules: tuple[str, ...] | None
    digest: str | None
    language: str | None
    max_items: int | None
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class SubscriberState:
    """Where a subscriber known to the store stands, for ``monitor subscribers``."""

    name: str
    target: str | None
    target_since: datetime | None
    paused_until: datetime | None
    unsubscribed_at: datetime | None


def _choice(row: Any) -> Choice:
    rules = None if row.rules is None else tuple(str(rule) for rule in row.rules)
    return Choice(
        row.name,
        row.address,
        bool(row.signed_up),
        rules,
        row.digest,
        row.language,
        row.max_items,
        row.changed_at,
    )


async def bump_generation(conn: AsyncConnection) -> None:
    """Tell every replica the subscribers changed (read at each tick: :meth:`generation`)."""
    first = ignoring(conn.dialect.name, settings).values(name=GENERATION, value="0")
    await conn.execute(first)
    await conn.execute(
        update(settings)
        .where(settings.c.name == GENERATION)
        .values(value=cast(cast(settings.c.value, Integer) + 1, Text))
    )


async def drop_moved_overrides(
    conn: AsyncConnection, configured: Sequence[SubscriberConfig]
) -> None:
    """Drop the overrides of configured subscribers whose address the configuration changed:
    what they chose was for the old address. (A subscriber no longer configured keeps its
    override, as its store rows: configured again at that address, its choice holds.)"""
    targets = {s.name: s.target for s in configured}
    query = select(subscriber_choices.c.name, subscriber_choices.c.address).where(
        subscriber_choices.c.signed_up.is_(False)
    )
    moved = [
        name
        for name, address in await conn.execute(query)
        if name in targets and targets[name] != address
    ]
    if moved:
        await conn.execute(
            delete(subscriber_choices).where(
                one_of(subscriber_choices.c.name, moved), subscriber_choices.c.signed_up.is_(False)
            )
        )
        await bump_generation(conn)


class SubscriberBook:
    """The subscribers' own choices, kept in the store."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def generation(self) -> str:
        """Changes whenever a subscriber's choice does ("" before the first change)."""
        async with reading(self.engine) as conn:
            value = await conn.scalar(select(settings.c.value).where(settings.c.name == GENERATION))
        return "" if value is None else str(value)

    async def choices(self) -> list[Choice]:
        async with reading(self.engine) as conn:
            query = select(subscriber_choices).order_by(subscriber_choices.c.name)
            return [_choice(row) for row in await conn.execute(query)]

    async def signed_up(self, address: str) -> str | None:
        """The name of the subscriber who signed up with ``address`` (normalised), if any."""
        held = await self.holder(address)
        return None if held is None else held[0]

    async def holder(self, address: str) -> tuple[str, str] | None:
        """(name, address as it holds it) of the subscriber who signed up with ``address``,
        whatever its case: a link for that subscriber must name the address it holds."""
        query = select(subscriber_choices.c.name, subscriber_choices.c.address).where(
            subscriber_choices.c.mailbox == mailbox(address),
            subscriber_choices.c.signed_up.is_(True),
        )
        async with reading(self.engine) as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (str(row.name), str(row.address))

    async def sign_up(
        self,
        address: str,
        now: datetime,
        *,
        rules: Sequence[str],
        digest: str,
        language: str,
        max_items: int = 50,
    ) -> tuple[str, bool]:
        """Make ``address`` a subscriber; (its name, True) when new, (the name it already has,
        False) otherwise: an address signs up once, whoever confirms twice or at once. One who
        had unsubscribed is subscribed again, with these choices ((its name, True))."""
        address = normal_address(address)
        row = {
            "name": SIGNED_UP_MARK + secrets.token_hex(6),
            "address": address,
            "mailbox": mailbox(address),
            "signed_up": True,
            "rules": list(rules),
            "digest": digest,
            "language": language,
            "max_items": max_items,
            "changed_at": now,
        }
        async with transaction(self.engine) as conn:
            await conn.execute(insert_ignore(self.engine, subscriber_choices, [row]))
            name = str(
                await conn.scalar(
                    select(subscriber_choices.c.name).where(
                        subscriber_choices.c.mailbox == row["mailbox"],
                        subscriber_choices.c.signed_up.is_(True),
                    )
                )
            )
            created = name == row["name"]
            if created:
                state = {"name": name, "since": now, "target": address, "target_since": now}
                await conn.execute(insert_ignore(self.engine, subscribers, [state]))
            else:  # back after an unsubscription: its new choices, from now
                back = await conn.execute(
                    update(subscribers)
                    .where(subscribers.c.name == name, subscribers.c.unsubscribed_at.is_not(None))
                    .values(unsubscribed_at=None, paused_until=None)
                )
                created = bool(back.rowcount)
                if created:
                    chosen = {k: row[k] for k in CHOSEN}
                    await conn.execute(
                        update(subscriber_choices)
                        .where(subscriber_choices.c.name == name)
                        .values(**chosen, changed_at=now)
                    )
            if created:
                await bump_generation(conn)
        return name, created

    async def choose(
        self, name: str, address: str, changes: Mapping[str, object], now: datetime
    ) -> None:
        """Record what subscriber ``name``, at ``address``, chose: ``changes`` maps some of
        :data:`CHOSEN` to a value (None: back to the configuration's). For a configured
        subscriber, an override made for ``address`` (its target)."""
        unknown = set(changes) - set(CHOSEN)
        if unknown:
            raise ValueError(f"not something a subscriber chooses: {', '.join(sorted(unknown))}")
        values = dict(changes)
        if isinstance(values.get("rules"), tuple | list):  # JSON: a list
            values["rules"] = list(values["rules"])  # type: ignore[call-overload]
        blank = {
            "name": name, "address": address, "signed_up": False, "changed_at": now,
            "mailbox": address.casefold(),  # (a configured target: not always an email address)
        }  # fmt: skip
        async with transaction(self.engine) as conn:
            # an override made for an older address (not yet dropped by a sync) is not carried
            # over to this one: the choice starts afresh
            await conn.execute(
                delete(subscriber_choices).where(
                    subscriber_choices.c.name == name,
                    subscriber_choices.c.signed_up.is_(False),
                    subscriber_choices.c.address != address,
                )
            )
            await conn.execute(insert_ignore(self.engine, subscriber_choices, [blank]))
            await conn.execute(
                update(subscriber_choices)
                .where(subscriber_choices.c.name == name)
                .values(**values, changed_at=now)
            )
            await bump_generation(conn)

    async def pause(self, name: str, until: datetime | None) -> None:
        """Hold ``name``'s digests until ``until`` (None: resume now); what it is owed waits."""
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(subscribers).where(subscribers.c.name == name).values(paused_until=until)
            )
            await bump_generation(conn)

    async def reset(self, name: str) -> bool:
        """Drop what configured subscriber ``name`` chose (its override and its pause): the
        configuration's values hold again. False when it had chosen nothing."""
        async with transaction(self.engine) as conn:
            dropped = await conn.execute(
                delete(subscriber_choices).where(
                    subscriber_choices.c.name == name, subscriber_choices.c.signed_up.is_(False)
                )
            )
            paused = await conn.execute(
                update(subscribers)
                .where(subscribers.c.name == name, subscribers.c.paused_until.is_not(None))
                .values(paused_until=None)
            )
            changed = bool(dropped.rowcount or paused.rowcount)
            if changed:
                await bump_generation(conn)
        return changed

    async def remove(self, address: str) -> str | None:
        """Erase the subscriber who signed up with ``address`` and its whole history (outbox,
        digests, delivery state) and the sign-up request of that address, confirmed or not: a
        person's right to erasure. Its name, or None if no one signed up with that address."""
        key = mailbox(address)
        async with transaction(self.engine) as conn:
            # its sign-up request too (the address, what it asked for): nothing of it is kept
            await conn.execute(delete(signup_requests).where(signup_requests.c.mailbox == key))
            found = await conn.scalar(
                select(subscriber_choices.c.name).where(
                    subscriber_choices.c.mailbox == key,
                    subscriber_choices.c.signed_up.is_(True),
                )
            )
            if found is None:
                return None
            name = str(found)
            await conn.execute(delete(outbox).where(outbox.c.subscriber == name))
            await conn.execute(delete(digests).where(digests.c.subscriber == name))
            await conn.execute(delete(subscribers).where(subscribers.c.name == name))
            await conn.execute(delete(subscriber_choices).where(subscriber_choices.c.name == name))
            await bump_generation(conn)
        return name

    async def states(self) -> dict[str, SubscriberState]:
        query = select(
            subscribers.c.name,
            subscribers.c.target,
            subscribers.c.target_since,
            subscribers.c.paused_until,
            subscribers.c.unsubscribed_at,
        )
        async with reading(self.engine) as conn:
            return {row.name: SubscriberState(*row) for row in await conn.execute(query)}
