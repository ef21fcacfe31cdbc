"""Hostile and odd documents served by a real loopback server and polled by the whole daemon
beside a healthy source whose alert must still arrive (issue 3, reliability P1/P5/F10)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.hostile import HEALTHY, assert_failed_alone, beside_healthy
from tests.support.paths import DATA
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss

FEEDS = DATA / "feeds"
# Tight parse limits: a document that expanded its entities would blow them and fail the poll.
TIGHT = "limits:\n  parse_timeout: 5s\n  parse_memory: 256MB\n"
RSS_HEAD = '<rss version="2.0"><channel><title>H</title><link>https://h.ma/</link>'
NOW = FakeClock().now.strftime("%a, %d %b %Y %H:%M:%S +0000")  # recent: alerts on a first poll


def doc(prolog: str, title: str, description: str = "d") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}\n{RSS_HEAD}<item><title>{title}'
        f"</title><link>https://h.ma/1</link><description>{description}</description>"
        f"<pubDate>{NOW}</pubDate></item></channel></rss>"
    ).encode()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
async def secret() -> AsyncIterator[FeedServer]:
    """A loopback server that entity URLs point at: it must never be asked anything."""
    server = FeedServer()
    server.resources["/secret"] = Resource(b"root:x:0:0:secret", "text/plain")
    await server.start()
    yield server
    await server.close()


def laughs() -> str:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<!DOCTYPE rss [<!ENTITY l0 "ha">{levels}]>'


def quadratic() -> tuple[str, str]:
    """One 50 KB entity referenced 2,000 times: 60 KB that feedparser's lenient parser would
    expand to 100 million characters (measured unprotected: past 256 MB, so past TIGHT)."""
    return f'<!DOCTYPE rss [\n<!ENTITY big "{"A" * 50_000}">\n]>', "&big;" * 2_000


@pytest.mark.slow
@pytest.mark.parametrize("case", ["billion laughs", "quadratic", "xxe file", "xxe url"])
async def test_xml_entity_attacks_stay_inert(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    secret: FeedServer,
    case: str,
) -> None:
    url = secret.url + "/secret"
    prolog, refs = {
        "billion laughs": (laughs(), "&l9;"),
        "quadratic": quadratic(),
        "xxe file": ('<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
        "xxe url": (
            f'<!DOCTYPE rss SYSTEM "{url}/dtd" [<!ENTITY % p SYSTEM "{url}/p"> %p;'
            f'<!ENTITY xxe SYSTEM "{url}">]>',
            "&xxe;",
        ),
    }[case]
    feeds.resources["/attack"] = Resource(doc(prolog, f"Démarchage {refs}", f"IA {refs}"))
    daemon = beside_healthy(tmp_path, feeds, receiver, feeds.url + "/attack", extra=TIGHT)
    reports = await daemon.run()
    assert reports["hostile"].result == "ok", reports["hostile"].error  # within TIGHT limits
    assert reports["healthy"].result == "ok"
    (attack,) = [item for item in daemon.delivered() if item["link"] == "https://h.ma/1"]
    assert attack["title"].startswith("Démarchage")
    assert HEALTHY in daemon.titles()
    bodies = b"".join(r.body for r in receiver.requests)
    for expanded in (b"haha", b"AAAA", b"root:"):
        assert expanded not in bodies
    assert sum(secret.hits.values()) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ((FEEDS / "garbage.bin").read_bytes(), "application/rss+xml", "not an RSS, Atom or JSON"),
        ((FEEDS / "page.html").read_bytes(), "text/html; charset=utf-8", "not an RSS, Atom"),
        (b"", "application/rss+xml", "empty body"),
        (b"\x00\xff" * 3000, "application/octet-stream", "not an RSS, Atom or JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', None, "not valid JSON"),
    ],
    ids=["garbage", "html", "empty", "binary", "truncated-json"],
)
@pytest.mark.slow
async def test_what_is_not_a_feed_is_a_source_error(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    body: bytes,
    content_type: str | None,
    message: str,
) -> None:
    feeds.resources["/odd"] = Resource(body, content_type or "application/octet-stream")
    daemon = beside_healthy(tmp_path, feeds, receiver, feeds.url + "/odd")
    assert_failed_alone(await daemon.run(), daemon, message)


LATIN_TITLE, UTF16_TITLE = "Le démarchage à l'épreuve", "Le démarchage à l’épreuve"
# latin-1 bytes that the document and the server (below) both declare as UTF-8
LATIN = doc("", LATIN_TITLE).decode().encode("latin-1")
# UTF-16 with a byte-order mark (encode() writes it), no charset from the server
UTF16 = doc("", UTF16_TITLE).decode().replace('"utf-8"', '"UTF-16"').encode("utf-16")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "content_type", "title"),
    [
        (LATIN, "application/rss+xml; charset=utf-8", LATIN_TITLE),
        (UTF16, "application/rss+xml", UTF16_TITLE),
    ],
    ids=["misdeclared-latin-1", "utf-16-bom"],
)
async def test_odd_encodings_still_give_their_items(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    body: bytes,
    content_type: str,
    title: str,
) -> None:
    feeds.resources["/enc"] = Resource(body, content_type)
    daemon = beside_healthy(tmp_path, feeds, receiver, feeds.url + "/enc")
    reports = await daemon.run()
    assert reports["hostile"].result == "ok", reports["hostile"].error
    assert title in daemon.titles()
    assert HEALTHY in daemon.titles()


@pytest.mark.slow
async def test_items_without_id_link_or_date_alert_once(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
) -> None:
    daemon = beside_healthy(tmp_path, feeds, receiver, feeds.url + "/bare")
    first = {"title": "Ancien", "guid": "old", "published": daemon.clock.now}
    feeds.resources["/bare"] = Resource(rss([first]))
    await daemon.run()  # the first poll is the baseline: undated items cannot be judged recent
    bare = [{"title": "Démarchage : sans identifiant"}, {"title": "L'IA, sans date ni lien"}]
    feeds.resources["/bare"] = Resource(rss([*bare, first]))
    for _ in range(2):
        daemon.clock.advance(timedelta(hours=1))
        reports = await daemon.run()
        assert reports["hostile"].result in ("ok", "unchanged"), reports["hostile"].error
    titles = daemon.titles()
    assert titles.count("Démarchage : sans identifiant") == 1
    assert titles.count("L'IA, sans date ni lien") == 1
    assert titles.count(HEALTHY) == 1


@pytest.mark.slow
async def test_duplicate_guids_are_not_merged(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
) -> None:
    daemon = beside_healthy(tmp_path, feeds, receiver, feeds.url + "/dup")
    now = daemon.clock.now
    items = [
        {"guid": "same", "title": f"Démarchage, épisode {n}", "link": f"https://d.ma/{n}"}
        for n in (1, 2, 3)
    ]
    feeds.resources["/dup"] = Resource(rss([item | {"published": now} for item in items]))
    reports = await daemon.run()
    daemon.clock.advance(timedelta(hours=1))
    await daemon.run()  # polled again: nothing new
    assert reports["hostile"].result == "ok"
    episodes = sorted(t for t in daemon.titles() if "épisode" in t)
    assert episodes == [f"Démarchage, épisode {n}" for n in (1, 2, 3)]
    assert HEALTHY in daemon.titles()


@pytest.mark.slow
async def test_dates_in_the_future_are_clamped_to_the_fetch_time(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
) -> None:
    daemon = beside_healthy(tmp_path, feeds, receiver, feeds.url + "/future")
    fetched_at = daemon.clock.now
    item = {"guid": "f", "title": "IA : annonce", "link": "https://f.ma/1"}
    year_2100 = fetched_at.replace(year=2100)
    feeds.resources["/future"] = Resource(rss([item | {"published": year_2100}]))
    await daemon.run()
    daemon.clock.advance(timedelta(hours=1))
    await daemon.run()
    (future,) = [i for i in daemon.delivered() if i["title"] == "IA : annonce"]
    assert future["published"] == stamp(fetched_at)
    assert HEALTHY in daemon.titles()


def test_the_attack_documents_are_what_they_claim() -> None:
    with pytest.raises(UnicodeDecodeError):
        LATIN.decode("utf-8")
    assert b'encoding="utf-8"' in LATIN
    assert UTF16.startswith(b"\xff\xfe") and UTF16_TITLE.encode("utf-16-le") in UTF16
    prolog, refs = quadratic()
    assert len(doc(prolog, refs)) < 70_000
    assert refs.count("&big;") * 50_000 >= 10**8
    assert json.dumps(laughs()).count("&l") == 90
