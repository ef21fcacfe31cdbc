"""Digest schedules (``immediate``, ``every 30m``, ``daily 08:00``, ``weekly mon 08:00``).

Pure functions of a datetime, so they are tested with a fake clock. (APScheduler's CronTrigger
fires twice in the repeated hour when clocks go back, so the calendar arithmetic is done here
with zoneinfo; APScheduler drives the ticks that call these functions.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.core.units import format_duration, parse_duration

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CALENDAR = re.compile(r"^(daily|weekly (mon|tue|wed|thu|fri|sat|sun)) ([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class Schedule:
    kind: str  # immediate | every | daily | weekly
    every: timedelta | None = None
    hour: int = 0
    minute: int = 0
    weekday: str | None = None

    def __str__(self) -> str:
        if self.kind == "immediate":
            return "immediate"
        if self.every is not None:
            return f"every {format_duration(self.every)}"
        at = f"{self.hour:02d}:{self.minute:02d}"
        return f"daily {at}" if self.weekday is None else f"weekly {self.weekday} {at}"

    @property
    def immediate(self) -> bool:
        return self.kind == "immediate"

    def next_digest(
        self, period_start: datetime | None, now: datetime, zone: ZoneInfo
    ) -> datetime | None:
        """When a subscriber's next digest is due: after its current period began (one the
        daemon has not seen yet starts its first period when it does); None when immediate."""
        return None if self.immediate else self.next_after(period_start or now, zone)

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime:
        """The first time strictly after ``after`` at which a digest is due (aware UTC)."""
        if self.kind == "immediate":
            return after
        if self.every is not None:
            return after + self.every
        local = after.astimezone(zone)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if self.weekday is not None and DAYS[day.weekday()] != self.weekday:
                continue
            # fold=0: when clocks go back the first 02:30 is taken, so one digest that day;
            # a time skipped when clocks go forward maps to just after the gap
            fire = datetime.combine(day, time(self.hour, self.minute), tzinfo=zone)
            if fire.astimezone(UTC) > after:
                return fire.astimezone(UTC)
        raise AssertionError("unreachable: a weekly schedule fires within 8 days")

    def is_due(self, last: datetime, now: datetime, zone: ZoneInfo) -> bool:
        """Whether a digest is due at ``now`` when the previous one (or the start) was ``last``.

        After downtime this is true once, not once per missed period.
        """
        return self.kind == "immediate" or self.next_after(last, zone) <= now


FORMS = "expected immediate, every 30m, daily 08:00 or weekly mon 08:00"


def parse_schedule(value: object) -> Schedule:
    if isinstance(value, Schedule):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a digest schedule such as 'daily 08:00'")
    text = " ".join(value.lower().split())
    if text == "immediate":
        return Schedule("immediate")
    if text.startswith("every "):
        try:
            every = parse_duration(text[6:])
        except ValueError as exc:  # "every day at 8": say what a schedule can be, not only this
            raise ValueError(f"invalid digest schedule {value!r} ({exc}): {FORMS}") from None
        if every <= timedelta(0):
            raise ValueError("the interval of 'every' must be positive")
        return Schedule("every", every=every)
    found = _CALENDAR.match(text)
    if found:
        weekday = found[2]
        return Schedule(
            "weekly" if weekday else "daily",
            hour=int(found[3]),
            minute=int(found[4]),
            weekday=weekday,
        )
    raise ValueError(f"invalid digest schedule {value!r}: {FORMS}")
