"""A source's page (``/sources/NAME``) and its JSON (``/api/sources/NAME``): its state, its
last 50 polls, its health notices and its items, newest first, paged by keyset
(monitor.store.source_detail). Feed text is shown as text; a link only when it is http(s)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.core.redact import shown
from monitor.digest.snippets import safe_href
from monitor.store.catalog import kinds_of
from monitor.store.definitions import Definitions
from monitor.store.items import LAST_ID
from monitor.store.source_detail import (
    LoggedPoll,
    NoticeRow,
    SourceDetail,
    SourceItem,
    source_detail,
)
from monitor.web.api_sources import iso
from monitor.web.params import BadParameter, digits

PAGE = 50


def source_url(name: str) -> str:
    """The page of the source ``name``: its name URL-quoted (names may hold any letter)."""
    return "/sources/" + quote(name, safe="")


def parse_after(text: str) -> int | None:
    return min(int(text), LAST_ID) if digits(text) and len(text) < 19 else None


@dataclass(frozen=True, slots=True)
class ShownPoll:
    at: datetime
    result: str  # ok | not-modified | unchanged | error (a word of the page's language)
    status: int | None
    seconds: str  # "0.42", "" when not measured
    new_items: int
    error: str  # in words, URLs redacted, control characters escaped


def _poll(poll: LoggedPoll) -> ShownPoll:
    seconds = "" if poll.duration_ms is None else f"{poll.duration_ms / 1000:.2f}"
    error = shown(poll.error) if poll.error else ""
    return ShownPoll(poll.at, poll.result, poll.status, seconds, poll.new_items, error)


@dataclass(frozen=True, slots=True)
class ShownNotice:
    at: datetime
    title: str


def notices_in(rows: list[NoticeRow], lang: str) -> list[ShownNotice]:
    """One line per notice (a notice is stored once per language of those it was owed to):
    its title in ``lang`` when there is one, else in another; newest first."""
    chosen: dict[str, NoticeRow] = {}
    for row in rows:
        event, _, language = row.key.rpartition(":")
        if event not in chosen or language == lang:
            chosen[event] = row
    return [
        ShownNotice(row.seen_at, row.title)
        for row in sorted(chosen.values(), key=lambda r: r.seen_at, reverse=True)
    ]


async def _detail(engine: AsyncEngine, name: str, after: int | None) -> SourceDetail | None:
    if "\x00" in name:  # no source's name (PostgreSQL refuses it in a text parameter)
        return None
    return await source_detail(engine, name, after, PAGE)


async def source_page(
    engine: AsyncEngine, config: Config, name: str, query: Mapping[str, str], lang: str
) -> dict[str, Any] | None:
    """The template's values; None for a source the store does not know."""
    detail = await _detail(engine, name, parse_after(query.get("after", "")))
    if detail is None:
        return None
    if config.sources_from == "store":  # its definition's, in the store
        kinds = await kinds_of(Definitions(engine), [detail.name])
    else:
        kinds = {source.name: source.kind for source in config.sources}
    here = source_url(detail.name)
    return {
        "source": detail,
        "kind": kinds.get(detail.name, ""),
        "error": shown(detail.last_error) if detail.last_error else "",
        "polls": [_poll(p) for p in detail.polls],
        "notices": notices_in(detail.notices, lang),
        "items": [(item, safe_href(item.link)) for item in detail.items],
        "paged": "after" in query,
        "first_url": here,
        "next_url": None if detail.next_item is None else f"{here}?after={detail.next_item}",
    }


def _poll_json(poll: LoggedPoll) -> dict[str, Any]:
    return {
        "at": iso(poll.at), "result": poll.result, "status": poll.status,
        "duration_ms": poll.duration_ms, "new_items": poll.new_items,
        "error": shown(poll.error) if poll.error else None,
    }  # fmt: skip


def _item_json(item: SourceItem) -> dict[str, Any]:
    return {
        "id": item.id, "title": item.title, "link": item.link, "published": iso(item.published),
        "seen": iso(item.seen_at), "rules": list(item.rules),
    }  # fmt: skip


async def source_json(
    engine: AsyncEngine, config: Config, name: str, query: Mapping[str, str]
) -> dict[str, Any] | None:
    """``GET /api/sources/NAME``: what the page shows, as JSON; None for an unknown source,
    :class:`BadParameter` for an ``after`` it did not give."""
    after = parse_after(query.get("after", "")) if query.get("after") else None
    if query.get("after") and after is None:
        raise BadParameter("after: not a cursor this API gave")
    detail = await _detail(engine, name, after)
    if detail is None:
        return None
    kinds = {source.name: source.kind for source in config.sources}
    return {
        "name": detail.name,
        "kind": kinds.get(detail.name),
        "state": detail.state,
        "since": iso(detail.since),
        "removed": iso(detail.removed),
        "last_poll": iso(detail.last_poll),
        "next_due": iso(detail.next_due),
        "last_error": shown(detail.last_error) if detail.last_error else None,
        "polls": [_poll_json(p) for p in detail.polls],
        "notices": [
            {"at": iso(n.seen_at), "key": n.key.rpartition(":")[0], "title": n.title}
            for n in detail.notices
        ],
        "items": [_item_json(i) for i in detail.items],
        "next": None if detail.next_item is None else str(detail.next_item),
    }
