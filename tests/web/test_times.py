"""Times on the pages are the analysts' own clock, named so they cannot be taken for UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from monitor.web.times import local


def test_a_moment_shows_in_the_configured_zone_with_its_name() -> None:
    moment = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert local(moment, ZoneInfo("Africa/Casablanca")) == "2026-11-25 04:00 +01"
    assert local(moment, ZoneInfo("Europe/Paris")) == "2026-11-25 04:00 CET"
    assert local(moment, ZoneInfo("UTC")) == "2026-11-25 03:00 UTC"


def test_summer_time_changes_the_offset_not_the_moment() -> None:
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert local(moment, ZoneInfo("Europe/Paris")) == "2026-07-01 14:00 CEST"
