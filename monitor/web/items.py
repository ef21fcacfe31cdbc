"""The articles (DESIGN §3.7): ``/items`` and ``GET /api/items`` read the same parameters into
the same store query (monitor.store.items) — a search in the rules' language, a rule, a source,
a tag, a date range, alerted only — one page newest first, with an opaque cursor to the next.

Each item on the page shows the rules it matched with their terms highlighted (``<mark>``) in
its title and a snippet of its text: the stored terms are found again by a matcher compiled for
the page (monitor.rules.matcher), which says exactly where matching found them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.core.errors import ConfigError
from monitor.core.models import Hit
from monitor.core.units import format_duration, parse_duration
from monitor.digest.snippets import safe_href
from monitor.rules.matcher import Matcher
from monitor.store.definitions import Definitions
from monitor.store.feeds import feed_key
from monitor.store.items import LAST_ID, MAX_PAGE, ItemFilter, ItemRow, item_page
from monitor.store.search import QueryError, parse_query
from monitor.web.api_sources import iso
from monitor.web.feeds import feed_path
from monitor.web.params import BadParameter, digits, limit_of

PAGE = 50
MAX_NAME = 100  # characters of a rule, source or tag name
SNIPPET = 240  # characters of text shown around the first term found in it
_TRUE, _FALSE = ("true", "1", "on", "yes"), ("false", "0", "off", "no", "")


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"i:{last_id}".encode()).decode("ascii").rstrip("=")


def decode_cursor(text: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    kind, _, number = raw.partition(":")
    if kind != "i" or not digits(number) or len(number) > 18:
        raise BadParameter("after: not a cursor this API gave")
    return min(int(number), LAST_ID)


# the dates a range may name: an item is seen today, and the store's bounds add a few minutes
# to them (monitor.store.items): years no clock gives are refused rather than overflow there
_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)
# from an item's poll's start to its write: the longest a poll can take is cluster.lease
# (monitor.poll.budget), and then its record waits in the writer's queue
_WRITE_QUEUE = timedelta(minutes=1)


def _moment(name: str, text: str, config: Config, now: datetime, end: bool) -> datetime:
    """``since``/``until``: a duration back from now (``7d``), an ISO date (a day of the
    configured zone; ``until`` takes the whole day in) or an ISO date and time."""
    problem = BadParameter(
        f"{name}: a date (2026-12-01), a date and time (2026-12-01T08:00) or a duration "
        "back from now (7d, 12h), from 1970 to 9000"
    )
    try:
        moment = _when(text, config, now, end)
    except (ValueError, OverflowError):
        raise problem from None
    if not _EARLIEST <= moment <= _LATEST:
        raise problem
    return moment


def _when(text: str, config: Config, now: datetime, end: bool) -> datetime:
    if text[-1:].isalpha() and digits(text[:-1]):
        try:
            return now - parse_duration(text)
        except ValueError:
            pass
    if len(text) == 10:
        start = datetime.combine(date.fromisoformat(text), time(), config.zone)
        return start + timedelta(days=1) if end else start
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=config.zone)


def _name(query: Mapping[str, str], key: str) -> str | None:
    value = query.get(key, "").strip()
    if len(value) > MAX_NAME:
        raise BadParameter(f"{key}: at most {MAX_NAME} characters")
    if "\x00" in value:  # no name holds one (PostgreSQL refuses it in a text parameter)
        raise BadParameter(f"{key}: a name has no NUL character")
    return value or None


def _sources(config: Config, source: str | None, tag: str | None) -> list[str] | None:
    if tag is None:
        return None if source is None else [source]
    tagged = [s.name for s in config.sources if tag in s.tags]
    return tagged if source is None else [name for name in tagged if name == source]


def filters_of(query: Mapping[str, str], config: Config, now: datetime) -> ItemFilter:
    """The filters the parameters ask for; :class:`BadParameter` naming the one it cannot take."""
    try:
        search = parse_query(query.get("q", ""))
    except QueryError as exc:
        raise BadParameter(f"q: {exc}") from None
    alerted = query.get("alerted", "").strip().lower()
    if alerted not in _TRUE + _FALSE:
        raise BadParameter("alerted: true or false")
    since, until = query.get("since", "").strip(), query.get("until", "").strip()
    return ItemFilter(
        query=search,
        rule=_name(query, "rule"),
        sources=_sources(config, _name(query, "source"), _name(query, "tag")),
        since=_moment("since", since, config, now, end=False) if since else None,
        until=_moment("until", until, config, now, end=True) if until else None,
        alerted=alerted in _TRUE,
        lag=config.cluster.lease + _WRITE_QUEUE,
    )


async def item_filters(
    engine: AsyncEngine, query: Mapping[str, str], config: Config, now: datetime
) -> ItemFilter:
    """:func:`filters_of`; in store mode a tag's sources read from the store (the index of
    their tags), the configuration holding none."""
    filters = filters_of(query, config, now)
    tag = _name(query, "tag")
    if config.sources_from != "store" or tag is None:
        return filters
    tagged = await Definitions(engine).tagged(tag)
    source = _name(query, "source")
    return replace(
        filters, sources=tagged if source is None else [n for n in tagged if n == source]
    )


async def items_json(
    engine: AsyncEngine, config: Config, query: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """The body of ``GET /api/items``; :class:`BadParameter` for a parameter it cannot take."""
    filters = await item_filters(engine, query, config, now)
    limit = limit_of(query.get("limit"), PAGE, MAX_PAGE)
    after = decode_cursor(query["after"]) if query.get("after") else None
    rows, cursor = await item_page(engine, filters, after, limit)
    found = [
        {
            "id": row.id,
            "title": row.title,
            "link": row.link,
            "source": row.source,
            "published": iso(row.published),
            "seen": iso(row.seen_at),
            "rules": list(row.rules),
            "terms": row.rules,
            "subscribers": row.subscribers,
        }
        for row in rows
    ]
    return {"items": found, "next": None if cursor is None else encode_cursor(cursor)}


# -- the page


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    marked: bool  # a term a rule found: shown in <mark>


@dataclass(frozen=True, slots=True)
class ShownItem:
    id: int
    title: list[Piece]
    link: str | None  # only http(s): a feed's javascript: link is never a link
    source: str
    seen_at: datetime
    snippet: list[Piece]
    rules: dict[str, list[str]]
    subscribers: list[str]


def pieces(text: str, spans: Sequence[tuple[int, int]]) -> list[Piece]:
    """``text`` cut into plain and marked pieces (overlapping spans merged)."""
    found: list[Piece] = []
    at = 0
    for start, end in sorted(spans):
        start = max(start, at)
        if end <= start:
            continue
        if start > at:
            found.append(Piece(text[at:start], False))
        found.append(Piece(text[start:end], True))
        at = end
    if at < len(text):
        found.append(Piece(text[at:], False))
    return found


def _snippet(text: str, spans: Sequence[tuple[int, int]]) -> list[Piece]:
    """About :data:`SNIPPET` characters of ``text``, from a little before its first term."""
    begin = max(0, min((s for s, _ in spans), default=0) - SNIPPET // 4)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < begin + 20 else begin
    end = min(len(text), begin + SNIPPET)
    kept = [(max(s, begin) - begin, min(e, end) - begin) for s, e in spans if s < end and e > begin]
    shown = pieces(text[begin:end], kept)
    if begin:
        shown.insert(0, Piece("… ", False))
    if end < len(text):
        shown.append(Piece(" …", False))
    return shown


def _matcher(rows: Sequence[ItemRow]) -> Matcher | None:
    """A matcher of every stored term of the page, one rule per rule, to find them again."""
    terms: dict[str, set[str]] = {}
    for row in rows:
        for rule, found in row.rules.items():
            terms.setdefault(rule, set()).update(found)
    try:
        rules = [
            RuleConfig.model_validate({"name": rule, "any": sorted(found)})
            for rule, found in terms.items()
            if found
        ]
        return Matcher(rules, scoped=False) if rules else None
    except (ConfigError, ValueError):
        return None  # a term stored by an older version that no longer compiles: no marks


def _shown(row: ItemRow, matcher: Matcher | None) -> ShownItem:
    hits: list[Hit] = []
    if matcher is not None and row.rules:
        found = matcher.match_fields({"title": row.title, "summary": row.text})
        hits = [hit for match in found if match.rule in row.rules for hit in match.hits]
    title = [(h.start, h.end) for h in hits if h.field == "title"]
    text = [(h.start, h.end) for h in hits if h.field == "summary"]
    return ShownItem(
        row.id, pieces(row.title, title), safe_href(row.link), row.source, row.seen_at,
        _snippet(row.text, text), row.rules, row.subscribers,
    )  # fmt: skip


KEPT = ("q", "rule", "source", "tag", "since", "until", "alerted")


async def items_page(
    engine: AsyncEngine, config: Config, query: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """The values of items.html.j2; a parameter it cannot take is said in ``problem``."""
    kept = {key: query.get(key, "").strip()[:400] for key in KEPT}
    values: dict[str, Any] = {
        **kept,
        "problem": "",
        "rows": [],
        "next_url": None,
        "paged": bool(query.get("after")),
        "first_url": "/items?" + urlencode({k: v for k, v in kept.items() if v}),
        "rules": [rule.name for rule in config.rules],
        "sources": sorted(s.name for s in config.sources),
        "tags": (
            await Definitions(engine).tags()
            if config.sources_from == "store"
            else sorted({t for s in config.sources for t in s.tags})
        ),
        "text_kept": format_duration(config.retention.text),
        "feed": None,
    }
    try:
        filters = await item_filters(engine, query, config, now)
        after = decode_cursor(query["after"]) if query.get("after") else None
    except BadParameter as exc:
        values["problem"] = str(exc)
        return values
    rows, cursor = await item_page(engine, filters, after, PAGE)
    matcher = _matcher(rows)
    values["rows"] = [_shown(row, matcher) for row in rows]
    if cursor is not None:
        shown = {k: v for k, v in kept.items() if v}
        values["next_url"] = "/items?" + urlencode({**shown, "after": encode_cursor(cursor)})
    if filters.rule is not None and filters.rule in values["rules"]:
        base = config.http.base_url if config.http is not None else None
        values["feed"] = f"{base or ''}{feed_path(filters.rule, await feed_key(engine))}"
    return values
