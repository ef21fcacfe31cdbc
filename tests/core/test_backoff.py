"""When a source is polled next: on its rhythm, or after failures (error count, Retry-After)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.backoff import MAX_DELAY, next_due, next_poll_delay

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


T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
EVERY = timedelta(seconds=10)


@pytest.mark.parametrize(
    ("due", "polled", "next_at"),
    [
        (None, 0.0, 10.0),  # a first poll: one interval from now
        (0.0, 0.0, 10.0),  # on time
        (0.0, 0.3, 10.0),  # late by a wait for a slot: the rhythm is kept
        (0.0, 1.0, 10.0),  # (a tenth of the interval: the most)
        (0.0, 1.1, 11.1),  # later: one interval from now
        (0.0, 3600.0, 3610.0),  # a daemon stopped for an hour
        (20.0, 15.0, 30.0),  # polled early (run --once): still on its rhythm
    ],
)
def test_next_due_keeps_the_rhythm_of_a_poll_a_little_late(
    due: float | None, polled: float, next_at: float
) -> None:
    def at(seconds: float) -> datetime:
        return T0 + timedelta(seconds=seconds)

    assert next_due(None if due is None else at(due), at(polled), EVERY) == at(next_at)


def test_the_rhythm_slack_is_a_second_at_most() -> None:
    hour = timedelta(hours=1)
    assert next_due(T0, T0 + timedelta(seconds=1), hour) == T0 + hour
    assert next_due(T0, T0 + timedelta(seconds=2), hour) == T0 + timedelta(seconds=2) + hour
