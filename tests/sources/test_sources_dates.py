"""Dates feeds write in French or day-first, read by feed and JSON Feed parsers alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from monitor.core.models import Fetched
from monitor.sources.dates import parse_loose_date
from monitor.sources.feed import FeedKind


def utc(*parts: int) -> datetime:
    year, month, day, hour, minute = (*parts, 0, 0)[:5]
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jeu, 26 Nov 2026 10:00:00 +0100", utc(2026, 11, 26, 9)),
        ("jeu., 26 nov. 2026 10:00:00 +01:00", utc(2026, 11, 26, 9)),
        ("26/11/2026 10:00", utc(2026, 11, 26, 10)),
        ("26-11-2026", utc(2026, 11, 26)),
        ("15 - 11 - 2025", utc(2025, 11, 15)),
        ("26 novembre 2026", utc(2026, 11, 26)),
        ("jeudi 26 novembre 2026 à 10h30", utc(2026, 11, 26, 10, 30)),
        ("Samedi 15 Novembre 2025", utc(2025, 11, 15)),
        ("1er décembre 2026 08:00 GMT", utc(2026, 12, 1, 8)),
        ("3 févr. 2026 07:05 Z", utc(2026, 2, 3, 7, 5)),
        ("12 aout 2026 23:59:59 -0200", datetime(2026, 8, 13, 1, 59, 59, tzinfo=UTC)),
    ],
)
def test_loose_dates(text: str, expected: datetime) -> None:
    assert parse_loose_date(text) == expected


@pytest.mark.parametrize(
    "text", ["31/02/2026", "hello", "26 brumaire 2026", "2026", "26/11", "99/99/2026 10:00"]
)
def test_not_dates(text: str) -> None:
    assert parse_loose_date(text) is None


def fetched(body: bytes, url: str = "https://site.ma/feed") -> Fetched:
    return Fetched(url=url, status=200, body=body, content_type=None, etag=None, last_modified=None)


def test_rss_with_french_dates_is_dated() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><link>https://site.ma/a</link>"
        b"<pubDate>Jeu, 26 Nov 2026 10:00:00 +0100</pubDate></item>"
        b"<item><title>b</title><link>/b</link><pubDate>26/11/2026 11:00</pubDate></item>"
        b"</channel></rss>"
    )
    entries = FeedKind().parse(fetched(body)).entries
    assert [(e.link, e.published) for e in entries] == [
        ("https://site.ma/a", utc(2026, 11, 26, 9)),
        ("https://site.ma/b", utc(2026, 11, 26, 11)),
    ]


def test_json_feed_relative_urls_and_loose_dates() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "home_page_url": "https://home.ma/",
            "items": [
                {
                    "id": "1",
                    "url": "/posts/1",
                    "title": "x",
                    "date_published": "26 novembre 2026 à 10h00",
                }
            ],
        }
    ).encode()
    [entry] = FeedKind().parse(fetched(body, "https://site.ma/feed.json")).entries
    assert (entry.link, entry.published) == ("https://site.ma/posts/1", utc(2026, 11, 26, 10))
    [local] = FeedKind().parse(fetched(body, "file:///tmp/feed.json")).entries
    assert local.link == "https://home.ma/posts/1"


def test_rss_file_resolves_relative_links_against_its_channel_link() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<link>https://site.ma/</link><item><title>a</title><link>/a</link></item>"
        b"</channel></rss>"
    )
    [entry] = FeedKind().parse(fetched(body, "file:///tmp/feed.xml")).entries
    assert entry.link == "https://site.ma/a"
