"""Digest schedules as pure functions of a fake clock, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.config.schedule import Schedule, parse_schedule

PARIS = ZoneInfo("Europe/Paris")
CASA = ZoneInfo("Africa/Casablanca")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("immediate", Schedule("immediate")),
        ("every 30m", Schedule("every", every=timedelta(minutes=30))),
        ("every  2h", Schedule("every", every=timedelta(hours=2))),
        ("daily 08:00", Schedule("daily", hour=8, minute=0)),
        ("Weekly MON 07:30", Schedule("weekly", hour=7, minute=30, weekday="mon")),
    ],
)
def test_parse(text: str, expected: Schedule) -> None:
    assert parse_schedule(text) == expected
    assert parse_schedule(str(expected)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "hourly",
        "daily 8h",
        "daily 24:00",
        "weekly 08:00",
        "every 0m",
        "every",
        "weekly mo 08:00",
        "",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"schedule|interval|duration"):
        parse_schedule(text)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "zone", "after", "expected"),
    [
        # 08:00 in Paris is 07:00 UTC in winter, 06:00 UTC in summer
        ("daily 08:00", PARIS, utc(2026, 3, 28, 8, 0), utc(2026, 3, 29, 6, 0)),
        ("daily 08:00", PARIS, utc(2026, 10, 24, 7, 0), utc(2026, 10, 25, 7, 0)),
        ("daily 08:00", PARIS, utc(2026, 11, 26, 6, 59), utc(2026, 11, 26, 7, 0)),
        # 02:30 does not exist in Paris on 29 March 2026: that day's digest comes at 03:30 CEST
        ("daily 02:30", PARIS, utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 1, 30)),
        # 02:30 happens twice on 25 October 2026: one digest, at the first
        ("daily 02:30", PARIS, utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 0, 30)),
        ("daily 02:30", PARIS, utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),
        ("weekly mon 08:00", CASA, utc(2026, 11, 26, 9, 0), utc(2026, 11, 30, 7, 0)),
        ("every 30m", CASA, utc(2026, 11, 26, 9, 0), utc(2026, 11, 26, 9, 30)),
    ],
)
def test_next_after(schedule: str, zone: ZoneInfo, after: datetime, expected: datetime) -> None:
    assert parse_schedule(schedule).next_after(after, zone) == expected


def test_due_once_after_downtime_not_once_per_missed_period() -> None:
    daily = parse_schedule("daily 08:00")
    last = utc(2026, 11, 20, 7, 0)  # a digest period closed on the 20th at 08:00 local
    now = utc(2026, 11, 26, 12, 0)  # back after six days down
    assert daily.is_due(last, now, CASA)
    assert not daily.is_due(now, now + timedelta(hours=10), CASA)  # the next is tomorrow 08:00
    assert daily.is_due(now, utc(2026, 11, 27, 7, 0), CASA)


def test_immediate_is_always_due() -> None:
    now = utc(2026, 11, 26, 9, 0)
    assert parse_schedule("immediate").is_due(now, now, CASA)
