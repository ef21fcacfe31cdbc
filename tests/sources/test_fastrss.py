"""The fast parse path (monitor.sources.fastrss) against feedparser, the parser of record: on
every feed fixture and on generated feeds, every document the fast path reads gives the same
items (identity, title, link, date, text) as feedparser; the others are left to feedparser.
Whatever the document's address (a web URL, a local file): the daemon, ``test-rule`` and
``check --resolve`` read a document through the one path (issue 19 §2)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.cli import testrule
from monitor.config.load import load_config
from monitor.core.models import Fetched, Item
from monitor.net.http import HttpClient
from monitor.rules.matcher import Matcher
from monitor.sources.fast import parse_fast
from monitor.sources.feed import FeedKind, parse_with_feedparser, parse_xml_feed
from monitor.sources.normalize import to_items
from monitor.sources.registry import Parser, kind_of
from tests.support.feedgen import feed
from tests.support.oddfeeds import odd_feed
from tests.support.paths import DATA
from tests.support.peers import FeedServer, Resource, rss
from tests.support.readalike import generated_read_alike, read_alike

FEEDS = DATA / "feeds"
URL = "https://www.example.ma/feed"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
GENERATED = 1500


def both(
    body: bytes, content_type: str | None, max_items: int | None = None, url: str = URL
) -> tuple[list[Item], list[Item]] | None:
    return read_alike(body, content_type, url, max_items)


@pytest.mark.slow
def test_generated_feeds_read_alike() -> None:
    compared, items = generated_read_alike(feed, URL, GENERATED)
    # the comparison is not vacuous: most documents take the fast path
    assert compared >= 1000 and items >= 10_000, (compared, items)


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
        b'<feed xmlns="http://purl.org/atom/ns#"><entry><title>t</title></entry></feed>',
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
    ids=[
        "doctype",
        "rss091",
        "atom03",
        "xml-base",
        "twice",
        "broken",
        "empty",
        "elements",
        "latin1",
    ],
)
def test_what_the_fast_path_leaves_to_feedparser(body: bytes) -> None:
    assert parse_fast(body, None) is None


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
    assert (parse_fast(body, None) is not None) is fast
    reference = parse_with_feedparser(body, None, URL).hub
    assert reference is not None  # every document here names a hub feedparser reads
    assert parse_xml_feed(body, None, URL).hub == reference
    if fast:
        result = both(body, None)  # (which compares the hubs too)
        assert result is not None and result[0] == result[1]


def test_a_charset_in_the_content_type_other_than_utf8_is_left_to_feedparser() -> None:
    body = rss([{"title": "t", "link": "https://x.ma/1"}])
    assert parse_fast(body, "text/xml; charset=windows-1252") is None
    assert parse_fast(body, "text/xml; charset=UTF-8") is not None


def test_a_local_file_takes_the_same_path_with_the_feeds_own_link_for_base() -> None:
    """A local file resolves relative links against the feed's own <link>, as feedparser
    reads it; when the fast path cannot tell which that is, feedparser reads the file."""
    body = rss([{"title": "t", "link": "/a/1"}])
    web = FeedKind().parse(Fetched(URL, 200, body, "application/rss+xml", None, None))
    assert web.entries[0].link == "https://www.example.ma/a/1"
    local = FeedKind().parse(Fetched("feed.xml", 200, body, "application/rss+xml", None, None))
    assert local.entries[0].link == "https://example.ma/a/1"  # the feed's <link>
    read = parse_fast(body, None)
    assert read is not None and read.site == "https://example.ma/"
    for channel, site in [
        ("<link>https:///x.ma/</link><link>https://y.ma/?a&amp;b;</link>", "https://y.ma/?a&b"),
        ("<image><url>u</url><link>https://i.ma/</link></image>", ""),
        ('<atom:link rel="alternate" href="https://alt.ma/"/>', None),  # feedparser's
        ("<f:x><link>https://x.ma/</link></f:x>", None),
        ("<Link>https://x.ma/</Link>", None),
    ]:
        read = parse_fast(channel_with(channel), None)
        assert read is not None and read.site == site, channel


def channel_with(elements: str, item: str = "<title>t</title><link>/a/1</link>") -> bytes:
    return (
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:f="urn:f">'
        f"<channel>{elements}<item>{item}</item></channel></rss>"
    ).encode()


def item_doc(item: str) -> bytes:
    return channel_with("<link>https://www.example.ma/</link>", item)


# (issue 19 §2) what feedparser repairs or reads where the fast path would not look: the fast
# path repairs the same way, or declines; either way the daemon's items are feedparser's
DEMARCHAGE = "Démarchage téléphonique"
WHEN = "Mon, 03 Nov 2025 10:00:00 +0000"
CATEGORIES = [
    ("twice", "<title>DÃ©marchage tÃ©lÃ©phonique</title>", True, "title", DEMARCHAGE),
    ("c1", "<title>Les centres d\x92appels</title>", True, "title", "Les centres d’appels"),
    ("c1-ref", "<title>Les centres d&#146;appels</title>", True, "title", "Les centres d’appels"),
    ("twice-and-c1", "<title>lâ\x80\x99Ã©tÃ©</title>", True, "title", "l’été"),
    ("not-twice", "<title>DÃ©marchage — x</title>", True, "title", "DÃ©marchage — x"),
    ("twice-text", "<description>DÃ©marchage</description>", True, "summary", "Démarchage"),
    (
        "twice-markup",
        "<description>&lt;p&gt;DÃ©marchage&lt;/p&gt;</description>",
        False,
        "summary",
        "Démarchage",
    ),
    (
        "markup-not-twice",
        "<description>&lt;p&gt;été&lt;/p&gt;</description>",
        True,
        "summary",
        "été",
    ),
    (
        "c1-markup",
        "<description>&lt;p&gt;d&amp;#146;appels d\x92appels&lt;/p&gt;</description>",
        True,
        "summary",
        "d’appels d’appels",
    ),
    (
        "joined",
        "<description>Ã&lt;script&gt;x&lt;/script&gt;©tÃ©</description>",
        False,
        "summary",
        "été",
    ),
    ("comment", "<description>Ã&lt;!-- x --&gt;©tÃ©</description>", True, "summary", "Ã©tÃ©"),
    ("comment-€", "<description>DÃ©&lt;!-- € --&gt;</description>", True, "summary", "DÃ©"),
    ("twice-link", "<link>https://x.ma/Ã©tÃ©</link>", True, "link", "https://x.ma/été"),
    ("twice-guid", "<guid>https://x.ma/Ã©tÃ©</guid>", True, "key", "g:https://x.ma/été"),
    ("c1-guid", '<guid isPermaLink="false">a\x92b</guid>', True, "key", "g:a’b"),
    (
        "twice-date",
        "<pubDate>dimanche 3 aoÃ»t 2025 10:00</pubDate>",
        True,
        "published",
        datetime(2025, 8, 3, 10, tzinfo=UTC),
    ),
    (
        "category-image",
        "<category>c<image><title>Savage Love</title></image></category>",
        False,
        "title",
        "Savage Love",
    ),
    (
        "author-link",
        "<title>t</title><author>a<link>https://x.ma/a</link></author>",
        False,
        "link",
        "https://x.ma/a",
    ),
    (
        "comments-title",
        "<comments>https://x.ma/c<title>Comments</title></comments>",
        False,
        "title",
        "Comments",
    ),
    (
        "enclosure-date",
        f'<title>t</title><enclosure url="x"><pubDate>{WHEN}</pubDate></enclosure>',
        False,
        "published",
        datetime(2025, 11, 3, 10, tzinfo=UTC),
    ),
    (
        "permalink-true",
        '<guid isPermaLink="true">https://x.ma/1</guid>',
        True,
        "link",
        "https://x.ma/1",
    ),
    ("permalink-TRUE", '<guid isPermaLink="TRUE">https://x.ma/1</guid>', False, "link", ""),
    ("permalink-yes", '<guid isPermaLink="yes">https://x.ma/1</guid>', False, "link", ""),
    ("permalink-lower", '<guid ispermalink="false">https://x.ma/1</guid>', False, "link", ""),
    ("relative-guid", "<guid>/actu/1</guid>", True, "key", "g:/actu/1"),
    ("slashes-guid", "<guid>https:///x.ma/1</guid>", True, "link", "https://x.ma/1"),
    ("guid-then-empty-link", "<guid>https://x.ma/1</guid><link/>", True, "link", ""),
    (
        "link-references",
        "<link>https://x.ma/?a=1&amp;amp;b=2&amp;c;=3</link>",
        True,
        "link",
        "https://x.ma/?a=1&b=2&c=3",
    ),
]


@pytest.mark.parametrize(
    ("item", "fast", "field", "expected"),
    [c[1:] for c in CATEGORIES],
    ids=[c[0] for c in CATEGORIES],
)
def test_what_feedparser_repairs_or_reads_the_daemon_reads_alike(
    item: str, fast: bool, field: str, expected: object
) -> None:
    body = item_doc(item)
    assert (parse_fast(body, None) is not None) is fast
    for url in (URL, "feed.xml"):
        ours = to_items("s", parse_xml_feed(body, None, url).entries, NOW)
        reference = to_items("s", parse_with_feedparser(body, None, url).entries, NOW)
        assert ours == reference
        assert getattr(ours[0], field) == expected


ODD = 600


@pytest.mark.slow
def test_odd_documents_read_alike_whatever_their_address() -> None:
    """Generated documents with each shape of issue 19 §2 (tests/support/oddfeeds.py): the
    daemon's path gives feedparser's items, at a web URL and as a local file; the fast path
    reads many of them, repairs included."""
    read, repairs = 0, Counter[str]()
    for seed in range(ODD):
        body, content_type = odd_feed(seed)
        for url in (URL, "/tmp/feed.xml"):
            result = both(body, content_type, url=url)
            if result is not None:
                assert result[0] == result[1], (seed, url)
        if parse_fast(body, content_type) is not None:
            read += 1
            repairs.update(k for k, v in REPAIRED.items() if v in body)
    assert read >= ODD // 4, read
    assert min(repairs[k] for k in REPAIRED) >= 20, repairs


REPAIRED = {"twice": "Ã©".encode(), "c1": "\x92".encode(), "c1-ref": b"&#146;"}


# an old CMS's feed: a title encoded twice, windows-1252 apostrophes as characters and as
# references, relative links
OLD_CMS = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>f</title>'
    "<link>https://www.example.ma/</link>"
    "<item><title>DÃ©marchage tÃ©lÃ©phonique : ce qui change</title><link>/actu/1</link>"
    "</item><item><title>Les centres d\x92appels recrutent</title><link>/actu/2</link></item>"
    "<item><title>Les centres d&#146;appels et l'IA</title><guid>https://x.ma/3</guid></item>"
    "<item><title>Le Maroc exporte</title><guid>https://x.ma/4</guid></item>"
    "</channel></rss>"
).encode()

CONFIG = """\
storage: sqlite:///{tmp}/m.db
network: {{allow: [127.0.0.0/8], timeout: 5s}}
sources:
  - name: eco
    url: {url}
rules:
  - name: demarchage
    any: ["démarchage"]
  - name: centres
    any: ["centres d'appels"]
subscribers:
  - name: ops
    console: true
"""


async def test_test_rule_on_a_file_alerts_as_the_daemon_over_http(
    tmp_path: Path, feeds: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The preview does not lie about the daemon: the same document alerts the same rules on
    the same items whether the daemon polls it, or test-rule reads it at its URL or from a
    file (issue 19 §2)."""
    feeds.resources["/feed"] = Resource(OLD_CMS, "application/rss+xml")
    url = f"{feeds.url}/feed"
    (tmp_path / "monitor.yaml").write_text(CONFIG.format(tmp=tmp_path, url=url))
    config = load_config(tmp_path / "monitor.yaml")
    async with HttpClient(config.network) as http, Parser(config.limits) as parser:
        read = await parser.parse(kind_of(config.sources[0]), await http.get(url), "eco", NOW)
    matcher = Matcher(config.rules, config.source_tags())
    daemon = [(i.title, [m.rule for m in matcher.match(i)]) for i in read.items]
    assert daemon == [
        ("Démarchage téléphonique : ce qui change", ["demarchage"]),
        ("Les centres d’appels recrutent", ["centres"]),
        ("Les centres d’appels et l'IA", ["centres"]),
        ("Le Maroc exporte", []),
    ]
    file = tmp_path / "feed.xml"
    file.write_bytes(OLD_CMS)
    for source in (str(file), file.as_uri(), url):
        assert await testrule.test_rule_command(config, source, None, as_json=True) == 0
        shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [(x["title"], x["rules"]) for x in shown] == daemon[:3], source
