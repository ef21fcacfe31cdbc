"""When a failing source is polled next: interval, error count and Retry-After."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from monitor.backoff import MAX_DELAY, next_poll_delay

INTERVAL = timedelta(minutes=15)


def test_no_error_is_the_interval() -> None:
    assert next_poll_delay(INTERVAL) == INTERVAL


@pytest.mark.parametrize("errors", [1, 2, 3, 5, 8])
def test_backoff_doubles_with_jitter(errors: int) -> None:
    delays = {next_poll_delay(INTERVAL, errors, rng=random.Random(seed)) for seed in range(20)}
    nominal = min(INTERVAL * 2 ** (errors - 1), MAX_DELAY)
    assert all(max(INTERVAL, nominal * 0.8) <= d <= min(nominal * 1.2, MAX_DELAY) for d in delays)
    if errors > 1 and nominal < MAX_DELAY:
        assert len(delays) > 1  # jittered, so failing sources do not synchronise


def test_capped_at_a_day() -> None:
    assert next_poll_delay(INTERVAL, 40) <= MAX_DELAY
    assert next_poll_delay(INTERVAL, 1, retry_after=timedelta(days=30)) == MAX_DELAY


def test_retry_after_is_honoured_when_longer() -> None:
    assert next_poll_delay(INTERVAL, 1, retry_after=timedelta(hours=2)) == timedelta(hours=2)
    assert next_poll_delay(INTERVAL, 0, retry_after=timedelta(seconds=10)) == INTERVAL
