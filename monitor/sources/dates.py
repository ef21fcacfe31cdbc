"""Dates feeds write in ways feedparser does not read: French month and day names
("jeu., 26 nov. 2026 10:00:00 +0100", "26 novembre 2026 à 10h30") and day-first numeric dates
("26/11/2026 10:00"). Registered with feedparser once, in every process that parses."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import feedparser

MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "mar": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "aou": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}  # fmt: skip
_DAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lun|mar|mer|jeu|ven|sam|dim)"
_TIME = r"(?:\s*(?:a|,|-)?\s*(\d{1,2})\s*[:h]\s*(\d{2})(?:\s*:\s*(\d{2}))?)?"
_ZONE = r"\s*(z|utc|gmt|[+-]\d{2}:?\d{2})?"
_WORDS = re.compile(
    rf"^(?:{_DAYS}\.?,?\s+)?(\d{{1,2}})(?:er)?\s+([a-z]+)\.?\s+(\d{{4}}){_TIME}{_ZONE}$"
)
_NUMERIC = re.compile(rf"^(\d{{1,2}})\s*[/.-]\s*(\d{{1,2}})\s*[/.-]\s*(\d{{4}}){_TIME}{_ZONE}$")


def _fold(text: str) -> str:
    if text.isascii():  # (most dates: nothing to decompose; feedparser asks at every date)
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFD", text.strip().lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _zone(value: str | None) -> timezone:
    if not value or value in ("z", "utc", "gmt"):
        return UTC  # no zone written: read as UTC, the only neutral choice
    digits = value[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(offset if value[0] == "+" else -offset)


def parse_loose_date(text: str) -> datetime | None:
    """An aware UTC datetime, or None when the text is not one of the forms above."""
    folded = _fold(text)
    found = _WORDS.match(folded)
    if found:
        month = MONTHS.get(found[2])
        day, year = int(found[1]), int(found[3])
    else:
        found = _NUMERIC.match(folded)
        if not found:
            return None
        day, month, year = int(found[1]), int(found[2]), int(found[3])
    if month is None:
        return None
    hour, minute, second = (int(found[i]) if found[i] else 0 for i in (4, 5, 6))
    try:
        when = datetime(year, month, day, hour, minute, second, tzinfo=_zone(found[7]))
    except ValueError:
        return None
    return when.astimezone(UTC)


def _feedparser_handler(text: str) -> tuple[int, ...] | None:
    when = parse_loose_date(text)
    return None if when is None else tuple(when.utctimetuple())


feedparser.registerDateHandler(_feedparser_handler)
