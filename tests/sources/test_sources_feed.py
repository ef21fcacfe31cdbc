"""The ``feed`` source kind: every format it reads, and the inputs it must refuse safely."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from monitor.config.sections import NetworkConfig
from monitor.config.sources import FeedSourceConfig
from monitor.core.errors import FetchError, ParseError
from monitor.core.models import Entry, Fetched
from monitor.net.http import HttpClient
from monitor.sources.feed import FeedKind, is_json, parse_with_feedparser, strip_internal_subset
from monitor.sources.normalize import to_items
from monitor.sources.registry import FEED, kind_of, parse_file, parse_off_loop
from tests.support.paths import DATA

FEEDS = DATA / "feeds"
KIND = FeedKind()


def fetched(body: bytes, content_type: str | None = None, url: str = "") -> Fetched:
    return Fetched(
        url=url or "https://example.test/feed",
        status=200,
        body=body,
        content_type=content_type,
        etag=None,
        last_modified=None,
    )


def parse_body(body: bytes, content_type: str | None = None, url: str = "") -> list[Entry]:
    return KIND.parse(fetched(body, content_type, url)).entries


def parse(name: str, content_type: str | None = None) -> list[Entry]:
    return parse_body((FEEDS / name).read_bytes(), content_type)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_feed_source_is_read_by_the_feed_kind() -> None:
    assert kind_of(FeedSourceConfig(name="f", url="https://x.ma/feed")) is FEED
    assert FEED.name == "feed"


@pytest.mark.parametrize(
    ("name", "titles", "first"),
    [
        (
            "rss20.xml",
            3,
            Entry(
                guid="https://www.leseco.test/?p=101",
                link="https://www.leseco.test/centres-dappels-demarchage/?utm_source=rss&utm_medium=rss",
                title="Centres d’appels : le démarchage téléphonique encadré",
                summary="<p>La loi sur le <strong>démarchage</strong> téléphonique entre en "
                "vigueur&#8230;</p>",
                # (the fast path keeps the script, which feedparser's sanitizer would drop:
                # the item's text has it from neither, see test_rss20_details)
                content="<p>La loi sur le <strong>démarchage</strong> téléphonique entre en "
                "vigueur le 1<sup>er</sup> janvier.</p><p>Les centres d’appels de Casablanca et "
                "Rabat s’y préparent.</p><script>alert(1)</script>",
                published=utc(2026, 11, 26, 6, 30),
            ),
        ),
        (
            "rss10.rdf",
            2,
            Entry(
                guid="https://lesechos.test/call-centers-maroc",
                link="https://lesechos.test/call-centers-maroc",
                title="Les call centers marocains recrutent",
                summary="Plus de 5 000 postes ouverts cette année.",
                content="",
                published=utc(2026, 11, 24, 8, 15),
            ),
        ),
        (
            "rss091.xml",
            2,
            Entry(
                guid=None,
                link="https://lematin.test/prospection",
                title="Prospection téléphonique : nouvelles règles",
                summary="Le régulateur publie un guide.",
                content="",
                published=None,
            ),
        ),
        (
            "atom.xml",
            2,
            Entry(
                guid="tag:medias24.test,2026:/economie/4242",
                link="https://medias24.test/economie/offshoring-ia-relation-client#comments",
                title="Offshoring : <em>IA</em> et relation client",
                summary="Les plateformes testent des assistants.",
                content="<p>Les plateformes de <b>relation client</b> testent des assistants "
                "d’IA.</p>",
                published=utc(2026, 11, 26, 5, 0),
            ),
        ),
        (
            "jsonfeed10.json",
            2,
            Entry(
                guid="2001",
                link="https://telquel.test/2026/11/26/demarchage",
                title="Démarchage : les opérateurs réagissent",
                summary="Les opérateurs demandent un délai.",
                content="<p>Les <em>centres d’appels</em> demandent un délai.</p>",
                published=utc(2026, 11, 26, 7, 0),
            ),
        ),
        (
            "jsonfeed11.json",
            2,
            Entry(
                guid="https://fr.hespress.test/art-77",
                link="https://fr.hespress.test/art-77?utm_campaign=json&b=2&a=1",
                title="Intelligence artificielle : le Maroc lance une stratégie",
                summary="",
                content="<p>La stratégie nationale « IA 2030 » est présentée.</p>",
                published=utc(2026, 11, 26, 9, 0),
            ),
        ),
        (
            "windows1252.xml",
            1,
            Entry(
                guid="https://lereporter.test/demarchage-etat",
                link="https://lereporter.test/demarchage-etat",
                title="Démarchage téléphonique : l’État durcit le ton",
                summary="Amendes jusqu’à 75 000 € pour les centres d’appels « récidivistes ».",
                content="",
                published=utc(2026, 11, 24, 10, 0),
            ),
        ),
    ],
)
def test_each_format_parses_to_entries(name: str, titles: int, first: Entry) -> None:
    entries = parse(name)
    assert len(entries) == titles
    assert entries[0] == first


@pytest.mark.parametrize(
    ("name", "cap", "kept", "total"),
    [("rss20.xml", 1, 1, 3), ("rss20.xml", 10, 3, 3), ("jsonfeed11.json", 1, 1, 2)],
)
def test_max_items_keeps_the_first_entries(name: str, cap: int, kept: int, total: int) -> None:
    body = (FEEDS / name).read_bytes()
    parsed = KIND.parse(fetched(body), cap)
    assert (len(parsed.entries), parsed.total) == (kept, total)
    assert parsed.entries == KIND.parse(fetched(body)).entries[:kept]


def test_rss20_details() -> None:
    entries = parse("rss20.xml", "application/rss+xml; charset=utf-8")
    # a script's text reaches no item, whichever parser read the feed
    body = (FEEDS / "rss20.xml").read_bytes()
    reference = parse_with_feedparser(body, None, "https://www.leseco.test/feed/").entries
    assert "<script>" not in reference[0].content  # feedparser sanitises HTML content
    for read in (entries, reference):
        [item, *_] = to_items("s", read, utc(2027, 1, 1))
        assert "alert" not in item.content and item.content.endswith("s’y préparent.")
    assert entries[1].published == utc(2026, 11, 25, 17, 5)  # +0100 converted to UTC
    assert entries[2].guid is None and entries[2].published is None
    assert entries[1].content == ""  # no content:encoded, summary only


def test_atom_relative_links_resolve_against_the_feed_url() -> None:
    body = (FEEDS / "atom.xml").read_bytes()
    entries = parse_body(body, "application/atom+xml", "https://medias24.test/x/atom")
    assert entries[1].link == "https://medias24.test/economie/mise-a-jour"
    assert entries[1].published == utc(2026, 11, 25, 10, 0)  # updated when not published
    assert entries[1].content == ""  # the same text as the summary


def test_json_feed_fallbacks() -> None:
    entries = parse("jsonfeed11.json")
    assert entries[1].link == "https://ailleurs.test/article"  # external_url
    assert entries[1].published == utc(2026, 11, 25, 9, 30)  # date_modified
    assert parse("jsonfeed10.json")[1].guid == "2000"  # numeric id


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml; charset=windows-1252",
        "text/xml; charset=windows-1252",
        "application/xml",
        None,
    ],
)
def test_windows_1252_keeps_its_accents(content_type: str | None) -> None:
    (entry,) = parse("windows1252.xml", content_type)
    assert entry.title == "Démarchage téléphonique : l’État durcit le ton"
    assert "75 000 €" in entry.summary


def test_a_charset_mismatch_does_not_escape_as_an_exception() -> None:
    body = (FEEDS / "windows1252.xml").read_bytes()
    entries = parse_body(body, "application/rss+xml; charset=utf-8")
    assert [e.title for e in entries] == ["Démarchage téléphonique : l’État durcit le ton"]


def test_utf16_with_bom() -> None:
    text = (FEEDS / "rss20.xml").read_text("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    entries = parse_body(text.encode("utf-16"), "application/rss+xml")
    assert entries[1].title == "L’IA générative arrive dans l’offshoring"


@pytest.mark.parametrize(
    ("name", "content_type", "message"),
    [
        ("page.html", "text/html; charset=utf-8", "not an RSS, Atom or JSON feed"),
        ("page.html", None, "not an RSS, Atom or JSON feed"),
        ("empty.xml", "application/rss+xml", "empty body"),
        ("garbage.bin", "application/octet-stream", "not an RSS, Atom or JSON feed"),
        ("garbage.bin", "application/json", "not valid JSON"),
    ],
)
def test_what_is_not_a_feed_is_a_parse_error(
    name: str, content_type: str | None, message: str
) -> None:
    with pytest.raises(ParseError, match=message):
        parse(name, content_type)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"   \n\t", "empty body"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "not valid JSON"),
        (b'{"title": "no version", "items": []}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/2", "items": []}', "not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": {}}', "'items' list"),
        (b'["https://jsonfeed.org/version/1"]', "not a JSON Feed"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"/etc/passwd", "not an RSS"),  # never taken for a file name
    ],
)
def test_bad_bodies_are_parse_errors(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_body(body, "application/json" if body.startswith(b"[") else None)


def test_a_feed_with_no_items_is_an_empty_list() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
    assert parse_body(body, "application/rss+xml") == []
    assert parse_body(b'{"version":"https://jsonfeed.org/version/1.1","items":[]}') == []


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"\xef\xbb\xbf  {", None, True),
        (b"\xff\xfe{\x00", None, True),
        (b"  <rss>", "application/json", False),
        (b"", "application/feed+json", True),
        (b"", "application/json; charset=utf-8", True),
        (b"", "application/rss+xml", False),
        (b"<?xml", None, False),
    ],
)
def test_is_json_sniffs_the_body_first(
    body: bytes, content_type: str | None, expected: bool
) -> None:
    assert is_json(body, content_type) is expected


def entity_feed(value: str, references: int, encoding: str = "utf-8") -> bytes:
    refs = "&big;" * references
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<!DOCTYPE rss [\n<!ENTITY big "{value}">\n]>\n'
        f'<rss version="2.0"><channel><title>t</title><item><title>{refs}</title>'
        "<link>https://x.test/1</link></item></channel></rss>"
    )
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "windows-1252"])
def test_entity_expansion_is_not_performed(encoding: str) -> None:
    # Unprotected, feedparser's loose parser turns these 25 KB into a 30-million-character title.
    body = entity_feed("A" * 10_000, 3_000, encoding)
    entries = parse_body(body, "application/rss+xml")
    assert len(entries) == 1
    assert len(entries[0].title) < 20_000
    assert "AAAA" not in entries[0].title


def test_billion_laughs_and_external_entities_stay_inert() -> None:
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    body = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "ha">' + laughs + ""
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&l9;&xxe;</title>'
        "<link>https://x.test/1</link></item></channel></rss>"
    ).encode()
    (entry,) = parse_body(body, "application/rss+xml")
    assert "haha" not in entry.title and "root:" not in entry.title


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'<!DOCTYPE rss [<!ENTITY a "x">]><rss/>', b"<!DOCTYPE rss ><rss/>"),
        (b"<!DOCTYPE rss [<!ENTITY a ']>'> <!-- ]> -->]>\n<rss/>", b"<!DOCTYPE rss >\n<rss/>"),
        (
            b'<!DOCTYPE rss PUBLIC "-//x" "y.dtd"><rss/>',
            b'<!DOCTYPE rss PUBLIC "-//x" "y.dtd"><rss/>',
        ),
        (b'<!DOCTYPE rss>\n<!ENTITY a "b">\n<rss/>', b"<!DOCTYPE rss>\n\n<rss/>"),
        (b"<rss><![CDATA[<!DOCTYPE x [ ]>]]></rss>", b"<rss><![CDATA[<!DOCTYPE x [ ]>]]></rss>"),
    ],
)
def test_strip_internal_subset(body: bytes, expected: bytes) -> None:
    assert strip_internal_subset(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'<!DOCTYPE rss [<!ENTITY a "x">', "never closes"),
        (b"<!DOCTYPE rss [<!ENTITY a 'x>", "never closes"),
        (b'<!ENT<!ENTITY x "y">ITY a "b"><rss/>', "declares XML entities"),
    ],
)
def test_doctypes_that_cannot_be_made_safe_are_parse_errors(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        strip_internal_subset(body)


@pytest.mark.parametrize(
    ("guid_xml", "link_xml", "guid", "link"),
    [
        ("<guid>2</guid>", "", "2", None),  # a guid copied into link is not a web link
        ("<guid>https://a.test/p</guid>", "", "https://a.test/p", "https://a.test/p"),
        ('<guid isPermaLink="false">k</guid>', "<link>/rel</link>", "k", "https://a.test/rel"),
        ("", "<link>https://a.test/l</link>", None, "https://a.test/l"),
        ("<guid>  </guid>", "", None, None),
    ],
)
def test_guid_and_link(guid_xml: str, link_xml: str, guid: str | None, link: str | None) -> None:
    body = (
        '<rss version="2.0"><channel><title>t</title>'
        f"<item><title>x</title>{guid_xml}{link_xml}</item></channel></rss>"
    ).encode()
    (entry,) = parse_body(body, "application/rss+xml", "https://a.test/feed")
    assert (entry.guid, entry.link) == (guid, link)


def test_parse_file_reads_local_files(tmp_path: Path) -> None:
    assert len(parse_file(FEEDS / "rss20.xml")) == 3
    assert len(parse_file(FEEDS / "jsonfeed11.json")) == 2
    with pytest.raises(FetchError, match="cannot read"):
        parse_file(tmp_path / "missing.xml")
    with pytest.raises(ParseError):
        parse_file(FEEDS / "page.html")


@pytest.fixture
async def feed_server() -> AsyncIterator[str]:
    app = web.Application()
    bodies = {
        "/rss": ("rss20.xml", "application/rss+xml; charset=utf-8"),
        "/cp1252": ("windows1252.xml", "application/rss+xml; charset=windows-1252"),
        "/json": ("jsonfeed11.json", "application/feed+json"),
    }

    async def serve(request: web.Request) -> web.Response:
        name, content_type = bodies[request.path]
        return web.Response(
            body=(FEEDS / name).read_bytes(), headers={"Content-Type": content_type}
        )

    for path in bodies:
        app.router.add_get(path, serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.mark.parametrize(("path", "count"), [("/rss", 3), ("/cp1252", 1), ("/json", 2)])
async def test_fetch_then_parse_off_the_loop(feed_server: str, path: str, count: int) -> None:
    network = NetworkConfig.model_validate({"allow": ["127.0.0.0/8"]})
    async with HttpClient(network) as http:
        result = await http.fetch(feed_server + path)
    assert isinstance(result, Fetched)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beat = asyncio.create_task(heartbeat())
    entries = await parse_off_loop(FEED, result)
    beat.cancel()
    assert len(entries) == count
    assert ticks > 0  # the loop kept running while the worker thread parsed
    assert all(e.title for e in entries)


def test_json_feed_items_that_are_not_objects_are_skipped() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "items": [1, "x", {"id": "a", "title": "T"}],
        }
    ).encode()
    assert parse_body(body) == [
        Entry(guid="a", link=None, title="T", summary="", content="", published=None)
    ]
