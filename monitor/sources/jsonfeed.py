"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) to entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urljoin

from monitor.core.errors import ParseError
from monitor.core.models import Entry, HubLink
from monitor.net.hubs import hub_link
from monitor.sources.base import Parsed
from monitor.sources.dates import parse_loose_date

_VERSIONS = ("jsonfeed.org/version/1", "jsonfeed.org/version/1.1")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _optional(value: object) -> str | None:
    """A string field, or a number some feeds use as an id; None when absent or empty."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def parse_date(value: object) -> datetime | None:
    """An RFC 3339 date as aware UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return parse_loose_date(value)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _version_ok(version: object) -> bool:
    if not isinstance(version, str):
        return False
    bare = version.strip().rstrip("/").removeprefix("https://").removeprefix("http://")
    return bare in _VERSIONS


def _entry(item: dict[str, object], base: str) -> Entry:
    html = _text(item.get("content_html"))
    link = _optional(item.get("url")) or _optional(item.get("external_url"))
    return Entry(
        guid=_optional(item.get("id")),
        link=urljoin(base, link) if link and base else link,
        title=_text(item.get("title")),
        summary=_text(item.get("summary")),
        content=html or _text(item.get("content_text")),
        published=parse_date(item.get("date_published")) or parse_date(item.get("date_modified")),
    )


def _hub(document: dict[str, object], url: str) -> HubLink | None:
    """The feed's WebSub hub (``hubs``, of type WebSub), its topic the feed's ``feed_url``."""
    hubs = document.get("hubs")
    listed = [hub for hub in hubs if isinstance(hub, dict)] if isinstance(hubs, list) else []
    websub = [_text(hub.get("url")) for hub in listed if _text(hub.get("type")).lower() == "websub"]
    return hub_link(websub, [_text(document.get("feed_url"))], url)


def parse_json_feed(body: bytes, max_items: int | None = None, url: str = "") -> Parsed:
    """The first ``max_items`` entries of a JSON Feed document; ParseError when it is not valid
    JSON or not a JSON Feed."""
    try:
        document: object = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ParseError(f"not valid JSON: {str(exc)[:120]}") from exc
    if not isinstance(document, dict) or not _version_ok(document.get("version")):
        raise ParseError("JSON but not a JSON Feed (no https://jsonfeed.org/version/1 version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed without an 'items' list")
    objects = [item for item in items if isinstance(item, dict)]
    # relative item URLs resolve against the feed's own URL, else its home page
    base = url if url.startswith(("http://", "https://")) else ""
    base = base or _text(document.get("feed_url")) or _text(document.get("home_page_url"))
    entries = [_entry(item, base) for item in objects[:max_items]]
    return Parsed(entries, len(objects), hub=_hub(document, url))
