"""WebSub hub discovery: the hub and topic each feed format advertises (RSS through the fast
path and through feedparser, Atom, JSON Feed), and the hub coming back from a parse worker."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from monitor.config.sections import LimitsConfig
from monitor.core.models import Fetched, HubLink
from monitor.sources.fast import parse_fast
from monitor.sources.feed import FeedKind, parse_with_feedparser
from monitor.sources.parser import Parser

URL = "https://www.example.ma/rss"
HUB = "https://pubsubhubbub.appspot.com/"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
ITEM = "<item><title>Centres d'appels</title><link>https://www.example.ma/a/1</link></item>"


def rss(*links: str) -> bytes:
    """An RSS 2.0 document whose channel has these atom:link attributes, before its item."""
    atom = "".join(f"<atom:link {attributes}/>" for attributes in links)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>Flux</title><link>https://www.example.ma/</link>{atom}{ITEM}</channel></rss>"
    ).encode()


def atom(*links: str) -> bytes:
    """An Atom document with these <link> attributes."""
    tags = "".join(f"<link {attributes}/>" for attributes in links)
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Flux</title><id>urn:flux</id>{tags}<entry><title>Centres d'appels</title>"
        '<id>urn:1</id><link href="https://www.example.ma/a/1"/></entry></feed>'
    ).encode()


def json_feed(**fields: object) -> bytes:
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "Flux", **fields}
    return json.dumps({**document, "items": [{"id": "1", "title": "Centres d'appels"}]}).encode()


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    body: bytes
    hub: HubLink | None
    url: str = URL
    fast: bool = False  # RSS the fast path reads: feedparser must give the same hub


CASES = [
    Case(
        "rss-hub-and-self",
        rss(f'rel="hub" href="{HUB}"', 'rel="self" href="https://www.example.ma/feed"'),
        HubLink(HUB, "https://www.example.ma/feed"),
        fast=True,
    ),
    Case("rss-hub-without-self", rss(f'rel="hub" href="{HUB}"'), HubLink(HUB, URL), fast=True),
    Case(
        "atom-hub-and-self",
        atom(f'rel="hub" href="{HUB}"', 'rel="self" href="https://www.example.ma/atom"'),
        HubLink(HUB, "https://www.example.ma/atom"),
    ),
    Case(
        "relative-hub-and-self",
        rss('rel="hub" href="/websub"', 'rel="self" href="feed.xml"'),
        HubLink("https://www.example.ma/websub", "https://www.example.ma/feed.xml"),
        fast=True,
    ),
    Case("javascript-hub", rss('rel="hub" href="javascript:alert(1)"'), None, fast=True),
    Case(
        "mailto-hub-then-web-hub",
        rss('rel="hub" href="mailto:hub@example.ma"', f'rel="hub" href="{HUB}"'),
        HubLink(HUB, URL),
        fast=True,
    ),
    Case(
        "two-hubs-first-wins",
        rss(f'rel="hub" href="{HUB}"', 'rel="hub" href="https://websub.example.ma/"'),
        HubLink(HUB, URL),
        fast=True,
    ),
    Case("empty-hub-href", rss('rel="hub" href=""'), None, fast=True),  # not the feed itself
    Case(
        "javascript-self-falls-back-to-the-url",
        rss(f'rel="hub" href="{HUB}"', 'rel="self" href="javascript:void(0)"'),
        HubLink(HUB, URL),
        fast=True,
    ),
    Case("local-file-has-no-topic", rss(f'rel="hub" href="{HUB}"'), None, url="feed.xml"),
    Case(
        "json-feed-hub-and-feed-url",
        json_feed(
            feed_url="https://www.example.ma/feed.json", hubs=[{"type": "WebSub", "url": HUB}]
        ),
        HubLink(HUB, "https://www.example.ma/feed.json"),
    ),
    Case(
        "json-feed-websub-after-rsscloud",
        json_feed(
            hubs=[
                {"type": "rssCloud", "url": "https://cloud.example.ma/"},
                {"type": "websub", "url": HUB},
            ]
        ),
        HubLink(HUB, URL),
    ),
    Case(
        "json-feed-non-websub-hub",
        json_feed(
            feed_url="https://www.example.ma/feed.json",
            hubs=[{"type": "rssCloud", "url": "https://cloud.example.ma/"}],
        ),
        None,
    ),
    Case("json-feed-malformed-hubs", json_feed(hubs={"type": "WebSub", "url": HUB}), None),
    Case("self-but-no-hub", rss('rel="self" href="https://www.example.ma/feed"'), None, fast=True),
    Case("no-link", rss(), None, fast=True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_hub_a_feed_advertises(case: Case) -> None:
    fetched = Fetched(case.url, 200, case.body, None, None, None)
    assert FeedKind().parse(fetched).hub == case.hub
    if case.fast:
        assert parse_fast(case.body, None) is not None  # the kind read it through the fast path
        assert parse_with_feedparser(case.body, None, case.url).hub == case.hub


async def test_the_hub_comes_back_from_the_parse_worker() -> None:
    body = rss(f'rel="hub" href="{HUB}"', 'rel="self" href="https://www.example.ma/feed"')
    fetched = Fetched(URL, 200, body, "application/rss+xml", None, None)
    async with Parser(LimitsConfig()) as parser:
        read = await parser.parse(FeedKind(), fetched, "s", NOW)
        plain = await parser.parse(FeedKind(), Fetched(URL, 200, rss(), None, None, None), "s", NOW)
    assert read.hub == HubLink(HUB, "https://www.example.ma/feed")
    assert [item.title for item in read.items] == ["Centres d'appels"]
    assert plain.hub is None
