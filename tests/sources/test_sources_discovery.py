"""The ``auto`` kind (issue 8): a home page whose feed is found (announced, or at a usual
address), recorded, and polled from then on; a site without one says what to configure."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli.status import status_command
from monitor.config.model import Config
from monitor.core.models import Fetched
from monitor.daemon.app import App
from monitor.sources.discovery import COMMON_PATHS, AutoKind, candidates
from tests.support.cli import monitor
from tests.support.daemon import NO_TIME_TO_SPARE, sources_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss

HOME = """<!DOCTYPE html><html><head><title>Le360</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="Economie" href="/rss/economie">
<link rel="alternate" type="application/atom+xml" href="https://le360.ma/atom.xml">
<link rel="alternate" hreflang="ar" href="/ar/">
</head><body><h1>Le360</h1></body></html>"""


def page(body: str, url: str = "https://le360.ma/fr/") -> Fetched:
    return Fetched(url, 200, body.encode(), "text/html; charset=utf-8", None, None)


def test_a_home_page_names_its_announced_feeds_then_the_usual_addresses() -> None:
    found = AutoKind().parse(page(HOME))
    assert found.entries == []
    assert found.feeds[:2] == ("https://le360.ma/rss/economie", "https://le360.ma/atom.xml")
    usual = [f"https://le360.ma{path}" for path in COMMON_PATHS]
    assert found.feeds[2:] == tuple(u for u in usual if u != "https://le360.ma/atom.xml")


def test_a_feed_given_to_the_auto_kind_is_read_as_a_feed() -> None:
    body = rss([{"guid": "1", "title": "Un", "link": "https://le360.ma/1"}])
    fetched = Fetched("https://le360.ma/rss", 200, body, "application/rss+xml", None, None)
    parsed = AutoKind().parse(fetched)
    assert [e.title for e in parsed.entries] == ["Un"]
    assert parsed.feeds == ()


def test_a_feed_served_as_html_is_still_a_feed() -> None:
    body = rss([{"guid": "1", "title": "Un", "link": "https://le360.ma/1"}])
    fetched = Fetched("https://le360.ma/rss", 200, body, "text/html; charset=utf-8", None, None)
    assert [e.title for e in AutoKind().parse(fetched).entries] == ["Un"]


def test_a_page_announcing_nothing_leaves_the_usual_addresses() -> None:
    assert candidates(page("<html><body>rien</body></html>", "http://x.ma/a/b")) == tuple(
        f"http://x.ma{path}" for path in COMMON_PATHS
    )


def auto_config(tmp_path: Path, url: str, receiver: WebhookReceiver) -> Config:
    source = f"  - name: le360\n    kind: auto\n    url: {url}\n"
    return sources_config(tmp_path, source, webhook_subscriber(receiver.url))


@pytest.mark.slow
async def test_the_feed_found_is_recorded_polled_from_then_on_and_shown(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, capsys: object
) -> None:
    clock = FakeClock()
    recent = clock.now - timedelta(hours=1)
    home = HOME.replace('href="/rss/economie"', 'href="/rss/missing"')  # announced, but 404
    feeds.resources["/"] = Resource(home.encode(), "text/html; charset=utf-8")
    items = [{"guid": "1", "title": "Le démarchage interdit", "link": "https://le360.ma/1",
              "published": recent}]  # fmt: skip
    feeds.resources["/feed/"] = Resource(rss(items))  # the first usual address
    config = auto_config(tmp_path, f"{feeds.url}/", receiver)
    async with App(config, clock=clock) as app:
        await app.run_once()
        state = (await app.store.states(["le360"]))["le360"]
        assert (state.url, state.last_result) == (f"{feeds.url}/feed/", "ok")
        clock.advance(timedelta(hours=1))
        items.append({"guid": "2", "title": "L'IA et les centres d'appels",
                      "link": "https://le360.ma/2", "published": clock.now})  # fmt: skip
        feeds.resources["/feed/"] = Resource(rss(items))
        await app.run_once()
    assert feeds.hits["/"] == 1  # the home page was read once, to find the feed
    assert feeds.hits["/rss/missing"] == 1
    alerted = [[i["title"] for i in json.loads(r.body)["items"]] for r in receiver.accepted()]
    assert alerted == [["Le démarchage interdit"], ["L'IA et les centres d'appels"]]
    assert await status_command(config, clock) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "source le360 (auto): last poll" in out and f"feed found: {feeds.url}/feed/" in out


async def test_a_site_without_a_feed_is_an_error_saying_what_to_configure(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    feeds.resources["/"] = Resource(b"<html><body>Accueil</body></html>", "text/html")
    robots = b"User-agent: *\nDisallow: /admin\nSitemap: /sitemap-news.xml\n"
    feeds.resources["/robots.txt"] = Resource(robots, "text/plain")
    config = auto_config(tmp_path, f"{feeds.url}/", receiver)
    async with App(config, clock=FakeClock()) as app:
        await app.run_once()
        state = (await app.store.states(["le360"]))["le360"]
    assert state.last_result == "error"
    assert state.last_error is not None
    assert state.last_error.startswith(f"no feed found for {feeds.url}/: none of the 7")
    assert state.last_error.endswith(
        f"kind: html (CSS selectors for its list of articles) or kind: sitemap "
        f"(robots.txt lists {feeds.url}/sitemap-news.xml)"
    )
    assert state.url == f"{feeds.url}/"  # nothing moved


@pytest.mark.slow
async def test_check_resolve_says_where_each_auto_source_has_its_feed(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.resources["/a/"] = Resource(
        HOME.replace("/rss/economie", "/a/rss").encode(), "text/html; charset=utf-8"
    )
    feeds.resources["/a/rss"] = Resource(
        rss([{"guid": "1", "title": "Un", "link": "https://a.ma/1"}])
    )
    feeds.resources["/b/"] = Resource(b"<html><body>rien</body></html>", "text/html")
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"storage: sqlite:///{tmp_path}/monitor.db\nnetwork:\n  allow: [127.0.0.0/8]\n"
        f"sources:\n  - name: a\n    kind: auto\n    url: {feeds.url}/a/\n"
        f"  - name: b\n    kind: auto\n    url: {feeds.url}/b/\n"
        f"  - name: c\n    url: {feeds.url}/a/rss\n"
    )
    run = await asyncio.to_thread(monitor, "check", "--resolve", "-c", str(path), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[1:] == [
        f"a: feed {feeds.url}/a/rss (1 entry), found on {feeds.url}/a/",
        f"b: no feed found for {feeds.url}/b/: none of the 7 addresses tried (those the page "
        "announces, then the usual /feed/, /rss…) is a feed; configure it as kind: html (CSS "
        "selectors for its list of articles) or kind: sitemap",
    ]
    assert not (tmp_path / "monitor.db").exists()  # nothing recorded


async def test_addresses_that_could_outlast_the_lease_are_not_tried(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    feeds.resources["/"] = Resource(HOME.encode(), "text/html; charset=utf-8")
    source = f"  - name: le360\n    kind: auto\n    url: {feeds.url}/\n"
    config = sources_config(tmp_path, source, webhook_subscriber(receiver.url), NO_TIME_TO_SPARE)
    async with App(config, clock=FakeClock()) as app:
        await app.run_once()
        state = (await app.store.states(["le360"]))["le360"]
    assert state.last_error is not None
    assert state.last_error.startswith("9 addresses where the feed may be left unread")
    assert sum(feeds.hits.values()) == 1  # the home page only


@pytest.mark.slow
async def test_check_resolve_in_store_mode_reads_the_stored_sources(
    tmp_path: Path, feeds: FeedServer
) -> None:
    feeds.resources["/a/"] = Resource(
        HOME.replace("/rss/economie", "/a/rss").encode(), "text/html; charset=utf-8"
    )
    feeds.resources["/a/rss"] = Resource(
        rss([{"guid": "1", "title": "Un", "link": "https://a.ma/1"}])
    )
    (tmp_path / "monitor.yaml").write_text(
        f"storage: sqlite:///{tmp_path}/monitor.db\nnetwork:\n  allow: [127.0.0.0/8]\n"
        "sources_from: store\nsources_file: feeds.csv\n"
    )
    (tmp_path / "feeds.csv").write_text(
        f"name,url,kind\na,{feeds.url}/a/,auto\nc,{feeds.url}/a/rss,\n", encoding="utf-8"
    )
    load = await asyncio.to_thread(monitor, "sources", "load", "-c", "monitor.yaml", cwd=tmp_path)
    assert load.returncode == 0, load.stderr
    run = await asyncio.to_thread(monitor, "check", "--resolve", "-c", "monitor.yaml", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[1:] == [
        f"a: feed {feeds.url}/a/rss (1 entry), found on {feeds.url}/a/"
    ]
