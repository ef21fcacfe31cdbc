"""The daemon's one source of "now". Everything that reads the time of day takes a ``Clock``
(the App's, a command's) instead of calling ``datetime.now`` itself, so a test that runs the
daemon on a fake clock runs every part of it on that clock, whatever day the test runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The real clock: aware UTC."""
    return datetime.now(UTC)
