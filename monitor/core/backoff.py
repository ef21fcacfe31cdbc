"""When a source is polled again (on time, or backing off after failures) and when a failed
digest is sent again. Pure functions of times, attempt counts (and a random source, for the
jitter)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MAX_DELAY = timedelta(hours=24)
RHYTHM_SLACK = timedelta(seconds=1)


def exponential(
    first: timedelta, attempt: int, cap: timedelta, rng: random.Random | None = None
) -> timedelta:
    """``first`` doubled per attempt after the first, jittered ±20 % (so failures do not
    synchronise), capped at ``cap`` after the jitter."""
    base = first * 2 ** min(max(attempt - 1, 0), 16)
    jittered: timedelta = base * (0.8 + 0.4 * (rng or random).random())
    return min(jittered, cap)


def next_poll_delay(
    interval: timedelta,
    errors: int = 0,
    retry_after: timedelta | None = None,
    rng: random.Random | None = None,
) -> timedelta:
    """The delay before the next poll.

    No error: the interval. After ``errors`` consecutive failures: the interval doubled per
    error (jittered ±20 %, so failing sources do not synchronise), capped at 24 h. A server's
    Retry-After is honoured when longer, also capped at 24 h.
    """
    if errors <= 0:
        delay = interval
    else:
        delay = max(exponential(interval, errors, MAX_DELAY, rng), min(interval, MAX_DELAY))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY))
    return min(delay, MAX_DELAY)


def next_due(due: datetime | None, now: datetime, interval: timedelta) -> datetime:
    """When a source polled at ``now``, that was due at ``due``, is due again.

    One interval after it was due, when the poll started at most a little late (waiting for a
    free slot, for the claim that gathers the sources due together): its later polls are not
    pushed back by each wait, so the source is polled every interval, not every interval plus
    the wait. Otherwise (a first poll, a daemon stopped for a while, a backlog) one interval
    from now. So two polls are never closer than the interval less that little (RHYTHM_SLACK,
    at most a tenth of the interval): a server's limit on how often it is asked holds."""
    if due is not None and now - due <= min(RHYTHM_SLACK, interval / 10):
        return due + interval
    return now + interval
