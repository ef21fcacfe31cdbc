"""The overview page's sources (``/``): one page of 50 (monitor.store.overview), broken ones
first, filtered by a part of the name, a tag or a state, with a cursor to the next page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.core.redact import shown
from monitor.store.catalog import kinds_of
from monitor.store.definitions import Definitions
from monitor.store.overview import (
    DAYS,
    STATES,
    SourceFilter,
    SourceRow,
    new_per_day,
    source_page,
    troubles,
)
from monitor.web.params import digits
from monitor.web.subscribers import subscriber_page

PAGE = 50
MAX_TEXT = 100  # characters of a name filter
# the query flag the retry button (POST /retry) redirects with: how many digests it re-queued
RETRIED = "retried"


@dataclass(frozen=True, slots=True)
class ShownSource:
    name: str
    kind: str
    state: str
    since: datetime | None
    last_poll: datetime | None
    next_due: datetime | None
    error: str  # in words, URLs redacted, control characters escaped
    per_day: list[int]  # new items on each of the last 14 days, oldest first
    pushed: bool = False  # a WebSub hub delivers it (polled only now and then meanwhile)


def retried(query: Mapping[str, str]) -> int | None:
    """How many digests the retry button just re-queued, when the URL says so (a count of at
    most six digits: anything else is ignored, not shown)."""
    text = query.get(RETRIED, "")
    return int(text) if digits(text) and len(text) <= 6 else None


def parse_cursor(text: str) -> tuple[int, str] | None:
    rank, sep, name = text.partition(":")
    if not sep or rank not in ("0", "1") or not name:
        return None
    return int(rank), name


def _shown(row: SourceRow, kinds: Mapping[str, str], per_day: list[int]) -> ShownSource:
    error = shown(row.last_error) if row.last_error else ""
    return ShownSource(
        row.name, kinds.get(row.name, "?"), row.state, row.since, row.last_poll, row.next_due,
        error, per_day, row.pushed,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Bar:
    x: int
    y: int
    height: int
    count: int
    day: str


CHART_HEIGHT = 24
BAR = 6  # px wide, and 1 px apart


def bars(per_day: list[int], first_day: date) -> list[Bar]:
    """The inline SVG chart's bars (no script, no style attribute: the CSP allows it)."""
    top = max(per_day, default=0) or 1
    found = []
    for n, count in enumerate(per_day):
        height = max(1, round(CHART_HEIGHT * count / top)) if count else 0
        day = (first_day + timedelta(days=n)).isoformat()
        found.append(Bar(n * (BAR + 1), CHART_HEIGHT - height, height, count, day))
    return found


async def overview(
    engine: AsyncEngine, config: Config, query: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    text = query.get("q", "").strip()[:MAX_TEXT]
    tag = query.get("tag", "").strip()
    state = query.get("state", "")
    state_filter = next((s for s in STATES if s == state), None)
    stored = Definitions(engine) if config.sources_from == "store" else None
    if stored is not None:  # store mode: the tag's sources read by the index of their tags
        among = await stored.tagged(tag) if tag else None
    else:
        among = [s.name for s in config.sources if tag in s.tags] if tag else None
    after = parse_cursor(query.get("after", ""))
    filters = SourceFilter(text=text, state=state_filter, among=among)
    rows, cursor = await source_page(engine, filters, after, PAGE, now)  # (now: who is pushed)
    first_day = now.date() - timedelta(days=DAYS - 1)  # today (UTC) is the last bar
    per_day = await new_per_day(engine, [row.name for row in rows], first_day)
    if stored is not None:
        kinds = await kinds_of(stored, [row.name for row in rows])
    else:
        kinds = {source.name: source.kind for source in config.sources}
    kept = {k: v for k, v in (("q", text), ("tag", tag), ("state", state_filter or "")) if v}
    next_url = None
    if cursor is not None:
        next_url = "/?" + urlencode({**kept, "after": f"{cursor[0]}:{cursor[1]}"})
    sub_after = query.get("sub_after", "")[:MAX_TEXT]
    subs, sub_cursor = await subscriber_page(engine, config, sub_after, now)
    subs_next = None if sub_cursor is None else "/?" + urlencode({"sub_after": sub_cursor})
    return {
        "troubles": await troubles(engine, [s.name for s in config.subscribers]),
        "retried": retried(query),
        "rows": [_shown(row, kinds, per_day[row.name]) for row in rows],
        "bars": lambda counts: bars(counts, first_day),
        "chart_width": DAYS * (BAR + 1) - 1,
        "chart_height": CHART_HEIGHT,
        "q": text,
        "tag": tag,
        "tags": (
            sorted({t for source in config.sources for t in source.tags})
            if stored is None
            else await stored.tags()
        ),
        "state": state_filter or "",
        "states": STATES,
        "after": after is not None,
        "first_url": "/?" + urlencode(kept),
        "next_url": next_url,
        "subscribers": subs,
        "subscribers_next": subs_next,
        "subscribers_paged": bool(sub_after),
    }
