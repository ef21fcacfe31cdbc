"""Items for story clustering tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.core.models import DigestItem

T0 = datetime(2026, 8, 3, 7, 0, tzinfo=UTC)


def item(title: str, source: str, minutes: int | None = None, key: str = "") -> DigestItem:
    published = None if minutes is None else T0 + timedelta(minutes=minutes)
    ident = key or f"{source}:{title}"
    return DigestItem(ident, title, f"https://{source}.example/{ident}", source, published, "", ())
