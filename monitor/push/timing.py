"""When a subscription's next request to its hub is due: pure functions of times and counts."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.core.backoff import exponential

RENEW_AT = 0.8  # of a lease: renewed with a fifth of it left, time for a few failed attempts
MIN_RENEW = timedelta(minutes=5)
# a hub that accepted a request verifies it within this, or the request is sent again
VERIFY_WAIT = timedelta(minutes=10)
RETRY_FIRST = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
MAX_LEASE = timedelta(days=365)  # whatever a hub says
UNSUBSCRIBE_TRIES = 5  # requests; then the row is dropped: the hub's lease ends it anyway


def renew_at(verified: datetime, lease: timedelta) -> datetime:
    """When to renew a lease granted at ``verified`` (a hub granting a minute is not asked
    every minute: its lease lapses, and the feed is polled meanwhile)."""
    return verified + max(lease * RENEW_AT, MIN_RENEW)


def verify_by(now: datetime, attempts: int) -> datetime:
    """Until when a request sent at ``now``, after ``attempts`` since the last verification,
    waits for the hub's verification before it is sent again."""
    return max(now + VERIFY_WAIT, retry_at(now, attempts + 1))


def retry_at(now: datetime, attempts: int) -> datetime:
    """When to ask a hub again after ``attempts`` failed requests in a row (or a denial)."""
    return now + exponential(RETRY_FIRST, attempts, RETRY_CAP)


def granted_lease(value: str | None, asked: timedelta) -> timedelta:
    """The lease a hub's verification grants (``hub.lease_seconds``): what we asked when it
    says nothing readable, at most MAX_LEASE."""
    if value is None or not value.strip().isdigit() or not value.isascii():
        return asked
    seconds = int(value.strip())
    return min(timedelta(seconds=seconds), MAX_LEASE) if seconds > 0 else asked
