"""The whole daemon, run once at a time against real loopback peers: a feed server, an SMTP
server and a webhook receiver (DESIGN §1, issue 2's acceptance scenarios)."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from standardwebhooks import Webhook

from monitor.config.model import Config
from monitor.daemon.app import App
from tests.support.daemon import (
    SECRET,
    build_config,
    titles,
    webhook_subscriber,
)
from tests.support.peers import FakeClock, FeedServer, Resource, SmtpSink, WebhookReceiver, rss


async def run_once(config: Config, clock: FakeClock, stdout: io.StringIO | None = None) -> Any:
    async with App(config, clock=clock, stdout=stdout) as app:
        return await app.run_once()


@pytest.mark.slow
async def test_three_polls_alert_new_items_once_and_304_costs_nothing(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, storage: str
) -> None:
    clock = FakeClock()
    recent = clock.now - timedelta(hours=2)
    items = [
        {
            "guid": "a1",
            "title": "Le démarchage téléphonique interdit",
            "link": "https://x.ma/a1",
            "published": recent,
        },
        {
            "guid": "a2",
            "title": "Les centres d’appels misent sur l’IA",
            "link": "https://x.ma/a2",
            "published": recent,
        },
        {
            "guid": "a3",
            "title": "Météo du week-end",
            "link": "https://x.ma/a3",
            "published": recent,
        },
        {
            "guid": "old",
            "title": "Ancien démarchage",
            "link": "https://x.ma/old",
            "published": clock.now - timedelta(days=3),
        },
    ]
    feeds.resources["/feed"] = Resource(rss(items), etag='"v1"')
    config = build_config(
        tmp_path, {"eco": f"{feeds.url}/feed"}, webhook_subscriber(receiver.url), storage=storage
    )

    await run_once(config, clock)
    assert titles(receiver) == [
        ["Le démarchage téléphonique interdit", "Les centres d’appels misent sur l’IA"]
    ]

    clock.advance(timedelta(hours=1))
    items[0]["title"] = "Le démarchage téléphonique interdit (mise à jour)"  # edited, same guid
    items += [
        {
            "guid": "b1",
            "title": "Un call center ouvre à Oujda",
            "link": "https://x.ma/b1",
            "published": clock.now,
        },
        {
            "guid": "b2",
            "title": "L'intelligence artificielle au service du client",
            "link": "https://x.ma/b2",
            "published": clock.now,
        },
    ]
    feeds.resources["/feed"] = Resource(rss(items), etag='"v2"')
    await run_once(config, clock)
    assert titles(receiver)[1:] == [
        ["Un call center ouvre à Oujda", "L'intelligence artificielle au service du client"]
    ]
    payload = json.loads(receiver.accepted()[1].body)
    assert {i["title"]: i["rules"] for i in payload["items"]} == {
        "Un call center ouvre à Oujda": ["centres-appels"],
        "L'intelligence artificielle au service du client": ["ia"],
    }

    clock.advance(timedelta(hours=1))
    await run_once(config, clock)
    assert feeds.not_modified["/feed"] == 1
    assert len(receiver.requests) == 2


@pytest.mark.slow
async def test_a_new_source_reads_no_seen_items_and_a_moved_one_alerts_nothing_twice(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, storage: str
) -> None:
    """A source the store holds no item of has nothing seen to read (every source, at a first
    start); one whose URL changed starts again as new, but its items stay seen."""
    clock = FakeClock()
    old = {"guid": "a1", "title": "Le démarchage téléphonique interdit",
           "link": "https://x.ma/a1", "published": clock.now - timedelta(hours=2)}  # fmt: skip
    feeds.resources["/feed"] = Resource(rss([old]))
    subscriber = webhook_subscriber(receiver.url)
    config = build_config(tmp_path, {"eco": f"{feeds.url}/feed"}, subscriber, storage=storage)
    statements: list[str] = []

    def executed(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split()))

    async with App(config, clock=clock) as app:
        event.listen(app.store.engine.sync_engine, "before_cursor_execute", executed)
        await app.run_once()
        event.remove(app.store.engine.sync_engine, "before_cursor_execute", executed)
    seen_reads = [s for s in statements if re.match(r'SELECT items\."?key"? FROM items WHERE', s)]
    assert seen_reads == [] and len(statements) > 5
    assert titles(receiver) == [["Le démarchage téléphonique interdit"]]

    clock.advance(timedelta(hours=1))
    new = {"guid": "b1", "title": "Les centres d’appels misent sur l’IA",
           "link": "https://x.ma/b1", "published": clock.now}  # fmt: skip
    feeds.resources["/moved"] = Resource(rss([new, old]))
    moved = build_config(tmp_path, {"eco": f"{feeds.url}/moved"}, subscriber, storage=storage)
    async with App(moved, clock=clock) as app:
        await app.run_once()
        state = (await app.store.states(["eco"]))["eco"]
    assert titles(receiver)[1:] == [["Les centres d’appels misent sur l’IA"]]
    assert state.last_new_items == 1  # the item it had already was not new again


async def test_entries_sharing_a_guid_are_told_apart_and_logged(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    """Normalization runs in the parse worker; what it noticed is logged by the daemon."""
    clock = FakeClock()
    shared = [{"guid": "2", "title": f"Centres d'appels {n}", "link": f"https://x.ma/{n}",
               "published": clock.now} for n in range(2)]  # fmt: skip
    feeds.resources["/feed"] = Resource(rss(shared))
    config = build_config(tmp_path, {"eco": f"{feeds.url}/feed"}, webhook_subscriber(receiver.url))
    with caplog.at_level(logging.INFO, logger="monitor"):
        await run_once(config, clock)
    assert sorted(titles(receiver)[0]) == ["Centres d'appels 0", "Centres d'appels 1"]
    [record] = [r for r in caplog.records if r.getMessage() == "shared-guids"]
    assert record.__dict__["fields"] == {"source": "eco", "guids": 1, "identity": "guid+link"}


@pytest.mark.slow
async def test_same_article_under_a_tracking_link_in_another_feed_alerts_once(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    when = clock.now - timedelta(hours=1)
    feeds.resources["/one"] = Resource(
        rss(
            [
                {
                    "guid": "one-1",
                    "title": "Démarchage : la loi publiée",
                    "link": "https://x.ma/loi",
                    "published": when,
                }
            ]
        )
    )
    feeds.resources["/two"] = Resource(
        rss(
            [
                {
                    "guid": "two-99",
                    "title": "Démarchage : la loi est publiée",
                    "link": "https://X.MA/loi?utm_source=rss&utm_medium=feed#top",
                    "published": when,
                }
            ]
        )
    )
    config = build_config(
        tmp_path,
        {"one": f"{feeds.url}/one", "two": f"{feeds.url}/two"},
        webhook_subscriber(receiver.url),
    )
    await run_once(config, clock)
    delivered = [i for r in receiver.accepted() for i in json.loads(r.body)["items"]]
    assert len(delivered) == 1
    assert delivered[0]["link"] == "https://x.ma/loi"


async def test_json_feed_and_windows_1252_feed(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    stamp = (clock.now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    feeds.resources["/json"] = Resource(
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "title": "J",
                "items": [
                    {
                        "id": "j1",
                        "url": "https://j.ma/1",
                        "title": "Centres d'appels : bilan",
                        "content_html": "<p>Rabat</p>",
                        "date_published": stamp,
                    }
                ],
            }
        ).encode(),
        content_type="application/feed+json",
    )
    latin = (
        '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel>'
        "<title>L</title><link>https://l.ma/</link><description>d</description><item>"
        "<title>Le démarchage à l’épreuve</title><link>https://l.ma/1</link>"
        f"<pubDate>{(clock.now - timedelta(hours=1)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        "</pubDate></item></channel></rss>"
    ).encode("cp1252")
    feeds.resources["/latin"] = Resource(latin, content_type="application/rss+xml")
    config = build_config(
        tmp_path,
        {"json": f"{feeds.url}/json", "latin": f"{feeds.url}/latin"},
        webhook_subscriber(receiver.url),
    )
    await run_once(config, clock)
    delivered = {
        i["title"]: i["rules"] for r in receiver.accepted() for i in json.loads(r.body)["items"]
    }
    assert delivered == {
        "Centres d'appels : bilan": ["centres-appels"],
        "Le démarchage à l’épreuve": ["demarchage"],
    }


@pytest.mark.slow
async def test_webhook_500_then_200_retries_with_the_same_id_and_a_valid_signature(
    tmp_path: Path, feeds: FeedServer
) -> None:
    receiver = WebhookReceiver(statuses=[500])
    await receiver.start()
    try:
        clock = FakeClock()
        feeds.resources["/f"] = Resource(
            rss(
                [
                    {
                        "guid": "1",
                        "title": "IA et démarchage",
                        "link": "https://x.ma/1",
                        "published": clock.now - timedelta(minutes=5),
                    }
                ]
            )
        )
        config = build_config(tmp_path, {"f": f"{feeds.url}/f"}, webhook_subscriber(receiver.url))
        await run_once(config, clock)
        assert receiver.answers == [500]
        await run_once(config, clock)  # the retry is not due yet: nothing is sent
        assert receiver.answers == [500]
        clock.advance(timedelta(minutes=5))
        await run_once(config, clock)
        assert receiver.answers == [500, 200]
        first, second = receiver.requests
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert first.body == second.body
        verified = Webhook(SECRET).verify(second.body, second.headers)
        assert verified["id"] == second.headers["webhook-id"]
        assert [i["rules"] for i in verified["items"]] == [["demarchage", "ia"]]
        clock.advance(timedelta(hours=1))
        await run_once(config, clock)
        assert len(receiver.requests) == 2  # delivered once, never again
    finally:
        await receiver.close()


@pytest.mark.slow
async def test_smtp_refuses_then_accepts_one_message_later(
    tmp_path: Path, feeds: FeedServer
) -> None:
    sink = SmtpSink(replies=["451 4.3.0 try again later"])
    port = sink.start()
    try:
        clock = FakeClock()
        feeds.resources["/f"] = Resource(
            rss(
                [
                    {
                        "guid": "1",
                        "title": "Centres d'appels et démarchage",
                        "link": "https://x.ma/1",
                        "published": clock.now - timedelta(minutes=5),
                    }
                ]
            )
        )
        smtp = (
            f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  security: none\n"
            '  from: "Veille <veille@example.ma>"\n'
        )
        config = build_config(
            tmp_path,
            {"f": f"{feeds.url}/f"},
            "  - name: analyste\n    email: analyste@example.ma\n    digest: immediate\n",
            smtp,
        )
        await run_once(config, clock)
        assert sink.messages == []
        clock.advance(timedelta(minutes=10))
        await run_once(config, clock)
        clock.advance(timedelta(hours=2))
        await run_once(config, clock)
        assert len(sink.messages) == 1
        message = sink.messages[0]
        assert message["To"] == "analyste@example.ma"
        assert message.get_content_type() == "multipart/alternative"
        body = message.get_body(("plain",))
        assert body is not None and "Centres d'appels et démarchage" in body.get_content()
    finally:
        sink.stop()


async def test_source_on_a_refused_address_fails_alone(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    feeds.resources["/ok"] = Resource(
        rss(
            [
                {
                    "guid": "1",
                    "title": "L'IA au Maroc",
                    "link": "https://x.ma/1",
                    "published": clock.now - timedelta(minutes=5),
                }
            ]
        )
    )
    # only 127.0.0.1 is allowed: 127.0.0.2 stands for an internal address
    inside = feeds.url.replace("127.0.0.1", "127.0.0.2") + "/ok"
    config = build_config(
        tmp_path,
        {"ok": f"{feeds.url}/ok", "inside": inside},
        webhook_subscriber(receiver.url),
        allow="127.0.0.1/32",
    )
    polls, _ = await run_once(config, clock)
    results = {p.source: (p.result, p.error) for p in polls}
    assert results["ok"] == ("ok", None)
    assert results["inside"][0] == "error"
    assert "127.0.0.2" in str(results["inside"][1])
    assert "refused" in str(results["inside"][1]).lower()
    assert feeds.hits["/ok"] == 1
    assert titles(receiver) == [["L'IA au Maroc"]]


async def test_console_subscriber_prints_the_digest(tmp_path: Path, feeds: FeedServer) -> None:
    clock = FakeClock()
    feeds.resources["/f"] = Resource(
        rss(
            [
                {
                    "guid": "1",
                    "title": "Les call centers et l'IA",
                    "link": "https://x.ma/cc",
                    "published": clock.now - timedelta(minutes=5),
                }
            ]
        )
    )
    out = io.StringIO()
    config = build_config(
        tmp_path, {"f": f"{feeds.url}/f"}, "  - name: terminal\n    console: true\n"
    )
    await run_once(config, clock, stdout=out)
    assert "Les call centers et l'IA" in out.getvalue()
    assert "https://x.ma/cc" in out.getvalue()


@pytest.mark.slow
async def test_run_once_sends_an_immediate_storm_in_digests_of_max_items(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    recent = clock.now - timedelta(hours=1)
    items = [
        {
            "guid": f"s{n}",
            "title": f"IA, épisode {n}",
            "link": f"https://x.ma/s{n}",
            "published": recent,
        }
        for n in range(7)
    ]
    feeds.resources["/storm"] = Resource(rss(items))
    subscriber = webhook_subscriber(receiver.url) + "    max_items: 3\n"
    config = build_config(tmp_path, {"storm": feeds.url + "/storm"}, subscriber)
    _, sends = await run_once(config, clock)
    assert [r.items for r in sends] == [3, 3, 1]
    bodies = [json.loads(r.body) for r in receiver.accepted()]
    assert sorted(i["title"] for b in bodies for i in b["items"]) == [
        f"IA, épisode {n}" for n in range(7)
    ]
    assert len({b["id"] for b in bodies}) == 3


@pytest.mark.slow
async def test_email_subscribers_share_one_pool_kept_across_reloads_of_the_same_smtp(
    tmp_path: Path, feeds: FeedServer
) -> None:
    sink = SmtpSink()
    port = sink.start()
    try:
        clock = FakeClock()
        feeds.resources["/f"] = Resource(rss([{
            "guid": "1", "title": "Centres d'appels et démarchage", "link": "https://x.ma/1",
            "published": clock.now - timedelta(minutes=5),
        }]))  # fmt: skip
        smtp = f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  security: none\n  from: v@x.ma\n"
        people = "".join(
            f"  - name: a{n}\n    email: a{n}@example.ma\n    digest: immediate\n" for n in range(6)
        )
        config = build_config(tmp_path, {"f": f"{feeds.url}/f"}, people, smtp)
        async with App(config, clock=clock) as app:
            first = app.mailer
            await app.run_once()
            assert first is not None and 1 <= first.opened <= 4  # six messages, four at most
            await app.reload(build_config(tmp_path, {"f": f"{feeds.url}/f"}, people, smtp))
            assert app.mailer is first  # the same server: its connections are kept
            changed = smtp.replace("from: v@x.ma", "from: w@x.ma")
            await app.reload(build_config(tmp_path, {"f": f"{feeds.url}/f"}, people, changed))
            assert app.mailer is not first and app.mailer is not None
            assert not first.keep  # the old pool closed its connections
        assert len(sink.messages) == 6
        assert {m["From"] for m in sink.messages} == {"v@x.ma"}
    finally:
        sink.stop()
