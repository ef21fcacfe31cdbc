"""The human units of the configuration (durations and sizes), and counts said in words."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


def parse_duration(value: object) -> timedelta:
    """``30s``, ``10m``, ``2h``, ``1d`` (a bare number is seconds)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found:
            return timedelta(seconds=int(found[1]) * _DURATION_UNITS[found[2]])
    raise ValueError(f"invalid duration {value!r}: expected a number and s, m, h or d, like 10m")


def parse_size(value: object) -> int:
    """``512KB``, ``10MB``, ``1GB`` (a bare number is bytes)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        found = _SIZE.match(value)
        if found:
            return int(found[1]) * _SIZE_UNITS[(found[2] or "B").upper()]
    raise ValueError(f"invalid size {value!r}: expected a number and B, KB, MB or GB, like 10MB")


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        size = _DURATION_UNITS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``1 attempt``, ``2 attempts``, ``0 items``: a count with its noun in the right number
    (``plural`` when adding an s is wrong)."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
