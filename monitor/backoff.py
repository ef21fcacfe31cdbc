"""Backoff: when a failing source is polled again, when a failed digest is sent again.
Pure functions of the attempt count (and a random source, for the jitter)."""

from __future__ import annotations

import random
from datetime import timedelta

MAX_DELAY = timedelta(hours=24)


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
