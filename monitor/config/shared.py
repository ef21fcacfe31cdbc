"""One object for what thousands of sources hold alike (issue 25: 100,000 sources in one
daemon): pydantic gives each model its own set of the fields it was given, and each source
its own empty ``headers`` and ``tags``, and each tag and interval its own object; read once,
the configuration is never changed (DESIGN §5), so equal parts can be one object. Pickling
keeps them shared (monitor.core.memory.compact copies the configuration so)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

_SET = object.__setattr__  # (a frozen model refuses its own __setattr__)


def share_parts(sources: Sequence[BaseModel]) -> None:
    """Make the equal parts of ``sources`` one object each: their sets of given fields, their
    empty headers and tag lists, their tags and intervals. Values do not change."""
    field_sets: dict[frozenset[str], set[str]] = {}
    intervals: dict[timedelta, timedelta] = {}
    no_headers: dict[str, Any] = {}
    no_tags: list[str] = []
    intern = sys.intern
    for source in sources:
        given = source.__pydantic_fields_set__
        shared = field_sets.setdefault(frozenset(given), given)
        if shared is not given:
            _SET(source, "__pydantic_fields_set__", shared)
        values = source.__dict__
        if "headers" in values and not values["headers"]:
            values["headers"] = no_headers
        tags = values.get("tags")
        if isinstance(tags, list):
            values["tags"] = [intern(tag) for tag in tags] if tags else no_tags
        interval = values.get("interval")
        if isinstance(interval, timedelta):
            values["interval"] = intervals.setdefault(interval, interval)
