"""Sign-ups awaiting their confirmation (monitor.store.signups), on SQLite and PostgreSQL: the
per-address limits (one email per 10 minutes, 5 a day) hold under concurrent requests, a later
email's link replaces the earlier one's, and a request is forgotten 48 h after its last email."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import reading
from monitor.store.signups import EVERY, PENDING, PER_DAY, Requested, Signups
from monitor.store.tables import signup_requests
from tests.support.store import T0

ASKED = Requested("a@example.ma", ("ia",), "daily 08:00", "fr")


async def test_one_email_per_ten_minutes_even_at_once(engine: AsyncEngine) -> None:
    signups = Signups(engine)
    due = await asyncio.gather(*(signups.request(ASKED, f"c{n}", T0) for n in range(20)))
    assert sum(due) == 1
    later = T0 + EVERY - timedelta(seconds=1)
    assert not await signups.request(ASKED, "late", later)
    assert await signups.request(ASKED, "next", T0 + EVERY)
    # the link of the email that went holds; the one held back never worked
    assert await signups.pending("next", T0 + EVERY) == ASKED
    assert await signups.pending("late", T0 + EVERY) is None
    first = next(f"c{n}" for n, went in enumerate(due) if went)
    assert await signups.pending(first, T0 + EVERY) is None  # replaced by the later email's


async def test_five_emails_a_day_then_none_until_the_next(engine: AsyncEngine) -> None:
    signups = Signups(engine)
    sent = [await signups.request(ASKED, f"c{n}", T0 + n * EVERY) for n in range(PER_DAY + 3)]
    assert sent == [True] * PER_DAY + [False] * 3
    assert await signups.request(ASKED, "tomorrow", T0 + timedelta(days=1))


async def test_other_addresses_are_counted_apart(engine: AsyncEngine) -> None:
    signups = Signups(engine)
    other = Requested("b@example.ma", ("ia",), "immediate", "en")
    assert await signups.request(ASKED, "a", T0)
    assert await signups.request(other, "b", T0)
    assert await signups.pending("b", T0) == other


async def test_requests_are_forgotten_after_48_hours(engine: AsyncEngine) -> None:
    signups = Signups(engine)
    assert await signups.request(ASKED, "old", T0)
    assert await signups.pending("old", T0 + PENDING - timedelta(seconds=1)) == ASKED
    assert await signups.pending("old", T0 + PENDING) is None
    other = Requested("b@example.ma", ("ia",), "immediate", "en")
    assert await signups.request(other, "new", T0 + PENDING + timedelta(seconds=1))
    async with reading(engine) as conn:
        left = await conn.scalar(select(func.count()).select_from(signup_requests))
    assert left == 1  # the old one purged at this write


async def test_case_variants_of_an_address_share_its_limits(engine: AsyncEngine) -> None:
    """``Ana@`` and ``ANA@`` are one mailbox to mail systems: one email per 10 minutes between
    them; the email goes to the address as last given."""
    signups = Signups(engine)
    variants = ["ana@example.ma", "Ana@example.ma", "ANA@Example.MA", "aNa@example.ma"]
    sent = [await signups.request(Requested(v, ("ia",), "immediate", "en"), v, T0)
            for v in variants]  # fmt: skip
    assert sent == [True, False, False, False]
    later = Requested("ANA@example.ma", ("ia",), "immediate", "en")
    assert await signups.request(later, "later", T0 + EVERY)
    assert await signups.pending("later", T0 + EVERY) == later


async def test_an_address_refused_for_good_gets_nothing_more(engine: AsyncEngine) -> None:
    signups = Signups(engine)
    assert await signups.request(ASKED, "first", T0)
    await signups.refused("A@example.ma", T0)  # (whatever the case)
    for n in range(1, PER_DAY + 2):  # after 10 minutes, the next day: still nothing
        assert not await signups.request(ASKED, f"c{n}", T0 + n * 30 * EVERY)
    assert await signups.purge(T0 + 31 * EVERY + PENDING) == 1  # until it is forgotten
    assert await signups.request(ASKED, "again", T0 + 31 * EVERY + PENDING)


async def test_the_prune_forgets_unconfirmed_requests_with_no_later_sign_up(
    engine: AsyncEngine,
) -> None:
    signups = Signups(engine)
    assert await signups.request(ASKED, "old", T0)
    assert await signups.purge(T0 + PENDING - timedelta(seconds=1)) == 0
    assert await signups.purge(T0 + PENDING + timedelta(seconds=1)) == 1
    async with reading(engine) as conn:
        assert await conn.scalar(select(func.count()).select_from(signup_requests)) == 0
