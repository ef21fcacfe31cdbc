"""Times as the commands print them: ``5m ago``, ``2h from now``, a local date."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def when(value: datetime | None, now: datetime) -> str:
    """``5m ago``, ``2h from now``; a missing due time means due now."""
    if value is None:
        return "now"
    delta = (value - now).total_seconds()
    suffix = "ago" if delta <= 0 else "from now"
    seconds = round(abs(delta))
    name, size = next(
        (n, s)
        for n, s in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
        if seconds >= s or s == 1
    )
    return f"{seconds // size}{name} {suffix}"


def due(value: datetime, now: datetime) -> str:
    """``5m from now``; ``now`` once past (the daemon takes it at its next tick)."""
    return when(value, now) if value > now else "now"


def local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
