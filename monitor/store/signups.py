"""Sign-ups waiting for their confirmation (issue 24, ``/subscribe``): a row per address, with
what it asked for, the digest of the secret its last link carries, and when confirmation emails
went to it. Deciding whether an email is due is one conditional write, so two replicas (or a
hundred requests at once) never send more than the limits allow:

- at most one confirmation email per address every :data:`EVERY`, and :data:`PER_DAY` a day;
- a request forgotten :data:`PENDING` after its last email (purged at the next request, and
  by the daemon's hourly prune: :meth:`Signups.purge`);
- nothing more to an address whose receiver refused it for good (a 5xx), until its request is
  forgotten.

An address is compared case-folded (monitor.store.subscribers.mailbox): ``Ana@`` and ``ANA@``
share their limits; the email goes to the address as last given.

Nothing here says whether the address is a subscriber: the page answers the same either way
(monitor.web.signup)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Delete, case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store import insert_ignore, reading, transaction
from monitor.store.subscribers import mailbox
from monitor.store.tables import signup_requests

PENDING = timedelta(hours=48)  # a confirmation link's life, and a request's
EVERY = timedelta(minutes=10)
PER_DAY = 5
DAY = timedelta(days=1)

_t = signup_requests.c


@dataclass(frozen=True, slots=True)
class Requested:
    """What a visitor asked for at ``address`` (normalised)."""

    address: str
    rules: tuple[str, ...]
    digest: str
    language: str


def _forgotten(now: datetime) -> Delete:
    return delete(signup_requests).where(_t.sent_at < now - PENDING)


class Signups:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def request(self, asked: Requested, code: str, now: datetime) -> bool:
        """Record ``asked`` with ``code`` (the digest of its link's secret) when a confirmation
        email to its address is due now; True then (send it), False when the limits hold it
        back (the earlier request and its link stay as they were)."""
        key = mailbox(asked.address)
        row = {
            "mailbox": key, "address": asked.address, "code": code, "rules": list(asked.rules),
            "digest": asked.digest, "language": asked.language, "sent_at": now,
            "day_start": now, "day_count": 1,
        }  # fmt: skip
        new_day = _t.day_start <= now - DAY
        async with transaction(self.engine) as conn:
            await conn.execute(_forgotten(now))
            first = await conn.execute(insert_ignore(self.engine, signup_requests, [row]))
            if first.rowcount:
                return True
            again = await conn.execute(
                update(signup_requests)
                .where(
                    _t.mailbox == key,
                    _t.refused_at.is_(None),
                    _t.sent_at <= now - EVERY,
                    or_(new_day, _t.day_count < PER_DAY),
                )
                .values(
                    address=asked.address,
                    code=code,
                    rules=list(asked.rules),
                    digest=asked.digest,
                    language=asked.language,
                    sent_at=now,
                    day_start=case((new_day, now), else_=_t.day_start),
                    day_count=case((new_day, 1), else_=_t.day_count + 1),
                )
            )
            return bool(again.rowcount)

    async def refused(self, address: str, now: datetime) -> None:
        """Record that the receiver of ``address`` refused its confirmation email for good:
        nothing more goes to it until its request is forgotten (:data:`PENDING`)."""
        async with transaction(self.engine) as conn:
            await conn.execute(
                update(signup_requests).where(_t.mailbox == mailbox(address)).values(refused_at=now)
            )

    async def purge(self, now: datetime) -> int:
        """Forget the requests :data:`PENDING` after their last email (the daemon's prune: an
        address nobody confirmed is not kept); how many."""
        async with transaction(self.engine) as conn:
            return int((await conn.execute(_forgotten(now))).rowcount or 0)

    async def pending(self, code: str, now: datetime) -> Requested | None:
        """The request whose last link carries ``code``, unless forgotten (or superseded by a
        later email's link)."""
        query = select(_t.address, _t.rules, _t.digest, _t.language).where(
            _t.code == code, _t.sent_at > now - PENDING
        )
        async with reading(self.engine) as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        rules: Sequence[object] = row.rules or []
        return Requested(row.address, tuple(str(r) for r in rules), row.digest, row.language)
