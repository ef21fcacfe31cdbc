"""The dispatcher tests' clock and zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

CASA = ZoneInfo("Africa/Casablanca")  # UTC+1 in November 2026


T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Casablanca
