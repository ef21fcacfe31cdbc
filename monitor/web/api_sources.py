"""``GET /api/sources`` (DESIGN §3.7): the overview's sources as JSON — the same store query
(monitor.store.overview), broken ones first, keyset pages with an opaque cursor."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.core.redact import shown
from monitor.store.overview import DAYS, MAX_PAGE, STATES, SourceFilter, new_per_day, source_page
from monitor.web.overview import MAX_TEXT, PAGE, parse_cursor
from monitor.web.params import BadParameter, limit_of


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_cursor(cursor: tuple[int, str]) -> str:
    raw = f"{cursor[0]}:{cursor[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    cursor = parse_cursor(raw)
    if cursor is None:
        raise BadParameter("after: not a cursor this API gave")
    return cursor


def _filters(config: Config, query: Mapping[str, str]) -> SourceFilter:
    state = query.get("state") or None
    if state is not None and state not in STATES:
        raise BadParameter(f"state: one of {', '.join(STATES)}")
    text = query.get("q", "").strip()
    if len(text) > MAX_TEXT:
        raise BadParameter(f"q: at most {MAX_TEXT} characters")
    tag = query.get("tag", "").strip()
    among = [s.name for s in config.sources if tag in s.tags] if tag else None
    return SourceFilter(text=text, state=next(s for s in STATES if s == state) if state else None,
                        among=among)  # fmt: skip


async def sources_json(
    engine: AsyncEngine, config: Config, query: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """The answer's body; :class:`BadParameter` for a parameter it cannot take."""
    filters, limit = _filters(config, query), limit_of(query.get("limit"), PAGE, MAX_PAGE)
    after = decode_cursor(query["after"]) if query.get("after") else None
    rows, cursor = await source_page(engine, filters, after, limit, now)
    first_day = now.date() - timedelta(days=DAYS - 1)  # today (UTC) is the last number
    per_day = await new_per_day(engine, [row.name for row in rows], first_day)
    kinds = {source.name: source.kind for source in config.sources}
    found = [
        {
            "name": row.name,
            "kind": kinds.get(row.name, "?"),
            "state": row.state,
            "pushed": row.pushed,
            "last_poll": iso(row.last_poll),
            "next_due": iso(row.next_due),
            "last_error": shown(row.last_error) if row.last_error else None,
            "new_items_per_day": per_day[row.name],
        }
        for row in rows
    ]
    return {"sources": found, "next": None if cursor is None else encode_cursor(cursor)}
