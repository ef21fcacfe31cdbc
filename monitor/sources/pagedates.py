"""Dates as listing pages print them: a strptime format when the source gives one, else the
French forms of monitor.sources.dates ("15 - 11 - 2025", "samedi 15 novembre 2025 à 10h30"),
English ones ("November 15, 2025", "15 Nov 2025 10:30") and what feedparser reads (ISO 8601,
RFC 822). A date without a zone is read as UTC, as in feeds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import feedparser

from monitor.sources import dates  # noqa: F401  (registers the French forms with feedparser)
from monitor.sources.feed import utc_datetime

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
_NAMES = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
_DAY = rf"(?:(?:{_NAMES})\.?,?\s+)?"
_TIME = r"(?:\s*(?:at|,|-)?\s*(\d{1,2}):(\d{2})\s*(am|pm)?)?"
# "November 15, 2025" and "15 November 2025", each maybe with a day name and a time
_MONTH_FIRST = re.compile(
    rf"^{_DAY}([a-z]+)\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_TIME}$"
)
_DAY_FIRST = re.compile(rf"^{_DAY}(\d{{1,2}})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{{4}}){_TIME}$")


def parse_page_date(text: str, date_format: str | None = None) -> datetime | None:
    """An aware UTC datetime, or None when ``text`` is no date this module reads."""
    text = " ".join(text.split())
    if date_format is not None:
        try:
            parsed = datetime.strptime(text, date_format)
        except ValueError:
            pass  # a page that changed its date format: the automatic forms may still read it
        else:
            aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
            try:
                return aware.astimezone(UTC)
            except (OverflowError, ValueError):
                return None  # a date at the edge of the calendar: no date
    # (feedparser's first date handler is the French forms' parser: not called twice)
    return _english(text) or _feedparser(text)


def _english(text: str) -> datetime | None:
    lowered = text.lower()
    found = _MONTH_FIRST.match(lowered)
    if found:
        month, day, year = MONTHS.get(found[1]), int(found[2]), int(found[3])
    else:
        found = _DAY_FIRST.match(lowered)
        if not found:
            return None
        day, month, year = int(found[1]), MONTHS.get(found[2]), int(found[3])
    if month is None:
        return None
    hour, minute = (int(found[4]), int(found[5])) if found[4] else (0, 0)
    if found[6] == "pm" and hour < 12:
        hour += 12
    elif found[6] == "am" and hour == 12:
        hour = 0
    try:
        return datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:
        return None


def _feedparser(text: str) -> datetime | None:
    return utc_datetime(feedparser.datetimes._parse_date(text))
