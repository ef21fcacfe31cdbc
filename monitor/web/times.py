"""Times on the pages: in the configuration's ``timezone`` (the analysts' own clock), with the
zone's abbreviation so a reader never mistakes it for UTC; the ``datetime`` attribute of each
``<time>`` stays ISO 8601 with its offset."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def local(moment: datetime, zone: ZoneInfo) -> str:
    """``2026-12-07 06:15 +01``: minutes are as fine as a page needs."""
    shown = moment.astimezone(zone)
    name = shown.tzname() or shown.strftime("%z")
    return f"{shown:%Y-%m-%d %H:%M} {name}"
