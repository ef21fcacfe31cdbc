"""When a source is next polled: pure functions of the interval, the error count and Retry-After."""

from __future__ import annotations

import random
from datetime import timedelta

MAX_DELAY = timedelta(hours=24)


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
        factor = 2 ** min(errors - 1, 16)
        delay = min(interval * factor, MAX_DELAY) * (0.8 + 0.4 * (rng or random).random())
        delay = max(delay, min(interval, MAX_DELAY))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY))
    return min(delay, MAX_DELAY)
