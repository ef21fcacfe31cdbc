"""The fast parse path (monitor.sources.fastrss) against feedparser, the parser of record: on
every feed fixture and on generated feeds, every document the fast path reads gives the same
items (identity, title, link, date, text) as feedparser; the others are left to feedparser."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.models import Fetched, Item
from monitor.normalize import to_items
from monitor.sources.fastrss import parse_rss
from monitor.sources.feed import FeedKind, parse_with_feedparser, parse_xml_feed
from tests.feedgen import feed
from tests.peers import rss

FEEDS = Path(__file__).parent / "data" / "feeds"
URL = "https://www.example.ma/feed"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
GENERATED = 1500


def both(
    body: bytes, content_type: str | None, max_items: int | None = None
) -> tuple[list[Item], list[Item]] | None:
    """The items of both paths, or None when the fast path declines the document."""
    if parse_rss(body, content_type, max_items) is None:
        return None
    fast = parse_xml_feed(body, content_type, URL, max_items)
    reference = parse_with_feedparser(body, content_type, URL, max_items)
    assert fast.total == reference.total
    assert fast.hub == reference.hub
    assert [(e.guid, e.link, e.published) for e in fast.entries] == [
        (e.guid, e.link, e.published) for e in reference.entries
    ]
    return to_items("s", fast.entries, NOW), to_items("s", reference.entries, NOW)


def test_generated_feeds_read_alike() -> None:
    compared, declined, items = 0, 0, 0
    for seed in range(GENERATED):
        body, content_type = feed(seed)
        result = both(body, content_type, max_items=None if seed % 7 else 5)
        if result is None:
            declined += 1
            continue
        fast, reference = result
        assert fast == reference, f"seed {seed}"
        compared, items = compared + 1, items + len(fast)
    # the comparison is not vacuous: most documents take the fast path
    assert compared >= 1000, (compared, declined)
    assert items >= 10_000


@pytest.mark.parametrize("path", sorted(FEEDS.iterdir()), ids=lambda p: p.name)
def test_every_fixture_reads_alike_or_is_left_to_feedparser(path: Path) -> None:
    body = path.read_bytes()
    result = both(body, None)
    if path.name == "rss20.xml":
        assert result is not None  # the plain RSS 2.0 fixture takes the fast path
    if result is not None:
        assert result[0] == result[1]


def test_the_test_servers_feeds_take_the_fast_path() -> None:
    when = datetime(2025, 11, 15, 10, tzinfo=UTC)
    body = rss(
        [
            {"title": "Centres d'appels", "link": "https://x.ma/1", "guid": "a", "published": when},
            {"title": "IA", "link": "https://x.ma/2", "summary": "&lt;p&gt;Le démarchage"},
        ]
    )
    result = both(body, "application/rss+xml")
    assert result is not None and result[0] == result[1]
    assert [i.title for i in result[0]] == ["Centres d'appels", "IA"]


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x">]><rss version="2.0"><channel>'
        b"<item><title>&a;</title></item></channel></rss>",  # declarations: feedparser's path
        b'<rss version="0.91"><channel><item><title>t</title></item></channel></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title></entry></feed>',
        b'<rss version="2.0" xml:base="https://x.ma/"><channel><item><title>t</title>'
        b"</item></channel></rss>",
        b'<rss version="2.0"><channel><item><title>t</title><title>u</title></item></channel>'
        b"</rss>",  # a field twice
        b'<rss version="2.0"><channel><item><title>t</title></channel></rss>',  # not well formed
        b'<rss version="2.0"><channel></channel></rss>',  # no item
        b'<rss version="2.0"><channel><item><description><p>x</p></description></item>'
        b"</channel></rss>",  # markup as XML elements, not text
        '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><item><title>'
        "été</title></item></channel></rss>".encode("iso-8859-1"),
    ],
    ids=["doctype", "rss091", "atom", "xml-base", "twice", "broken", "empty", "elements", "latin1"],
)
def test_what_the_fast_path_leaves_to_feedparser(body: bytes) -> None:
    assert parse_rss(body, None) is None


def channel(links: str) -> bytes:
    """An RSS 2.0 document with these elements in its channel, before its item."""
    return (
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:f="urn:f" '
        'xmlns:a03="http://purl.org/atom/ns#"><channel><title>t</title>'
        f"{links}<item><title>t</title><link>https://x.ma/1</link></item></channel></rss>"
    ).encode()


HUB = '<atom:link rel="hub" href="https://hub.ma/"/>'


@pytest.mark.parametrize(
    ("links", "fast"),
    [
        (HUB + '<atom:link rel="self" href="https://x.ma/feed"/>', True),
        (
            '<atom:link rel=" HUB " href=" https://hub.ma/ "/><atom:link rel="Self" href="/f"/>',
            True,
        ),
        ('<atom:link rel="self hub" href="https://hub.ma/"/>', True),  # several relations
        ('<atom:link rel="hub" href="https:///hub.ma/"/>', True),  # feedparser drops a slash
        ('<atom:link rel="hub" href="https://hub.ma/?a=1&amp;b=2">text</atom:link>', True),
        ('<link rel="hub" href="https://hub.ma/"/>', True),  # feedparser reads it as a link too
        ('<atom:link rel="hub" href="javascript:x()"/><atom:link rel="hub" href="/h"/>', True),
        ("<image><url>https://x.ma/i.png</url><link>https://x.ma/</link></image>" + HUB, True),
        ('<link rel="hub">https://hub.ma/</link>', False),  # feedparser takes the text
        ('<atom:link rel="hub" url="https://u.ma/" href="https://hub.ma/"/>', False),
        ('<atom:link REL="hub" HREF="https://hub.ma/"/>', False),  # feedparser lower-cases
        ('<f:x><atom:link rel="hub" href="https://hub.ma/"/></f:x>', False),  # nested
        ('<a03:link rel="hub" href="https://hub.ma/"/>', False),  # Atom 0.3: feedparser's too
        ('<atom:LINK rel="hub" href="https://hub.ma/"/>', False),
    ],
    ids=[
        "hub-and-self",
        "spaces-and-case",
        "several-rels",
        "triple-slash",
        "text-beside-href",
        "plain-link-with-href",
        "javascript-then-relative",
        "image-link",
        "text-for-href",
        "url-attribute",
        "upper-case-attributes",
        "nested",
        "atom-0.3",
        "upper-case-tag",
    ],
)
def test_channel_links_give_the_same_hub_on_both_paths(links: str, fast: bool) -> None:
    """The fast path reads the hub and self links as feedparser does, and leaves to it the
    channel links it might read another way."""
    body = channel(links)
    assert (parse_rss(body, None) is not None) is fast
    reference = parse_with_feedparser(body, None, URL).hub
    assert reference is not None  # every document here names a hub feedparser reads
    assert parse_xml_feed(body, None, URL).hub == reference
    if fast:
        result = both(body, None)  # (which compares the hubs too)
        assert result is not None and result[0] == result[1]


def test_a_charset_in_the_content_type_other_than_utf8_is_left_to_feedparser() -> None:
    body = rss([{"title": "t", "link": "https://x.ma/1"}])
    assert parse_rss(body, "text/xml; charset=windows-1252") is None
    assert parse_rss(body, "text/xml; charset=UTF-8") is not None


def test_the_kind_reads_through_the_fast_path_only_for_web_urls() -> None:
    """A local file resolves relative links against the feed's own <link>: feedparser's."""
    body = rss([{"title": "t", "link": "/a/1"}])
    web = FeedKind().parse(Fetched(URL, 200, body, "application/rss+xml", None, None))
    assert web.entries[0].link == "https://www.example.ma/a/1"
    local = FeedKind().parse(Fetched("feed.xml", 200, body, "application/rss+xml", None, None))
    assert local.entries[0].link == "https://example.ma/a/1"  # the feed's <link>
