"""The rules' Atom feeds (monitor.web.feeds) on a running daemon's server: read back with
feedparser, refused alike for a wrong key, no key or an unknown rule, cheap to poll (304), and
cut off at once by ``monitor feeds rotate-key`` run as a user runs it."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import aiohttp
import feedparser
import pytest
from multidict import CIMultiDict

from monitor.config.load import load_config
from monitor.daemon.app import App
from monitor.daemon.serving import serve_http
from monitor.store.feeds import rule_alerts
from monitor.web.feeds import ATOM
from tests.support.cli import monitor
from tests.support.peers import FakeClock, FeedServer, Resource, rss
from tests.support.webapp import CHEAP

BASE = "https://veille.example.com"
CONFIG = """\
storage: sqlite:///{folder}/monitor.db
timezone: Africa/Casablanca
network:
  allow: [127.0.0.0/8]
  timeout: 5s
http:
  listen: 127.0.0.1:0
  app:
    users:
      - {{name: analyste, password: "{hash}"}}
{base}sources:
  - name: presse
    url: {feed}
rules:
  - name: demarchage
    label: Démarchage téléphonique
    any: ["démarchage"]
  - name: ia
    any: ["intelligence artificielle", "الذكاء الاصطناعي"]
subscribers:
  - name: terminal
    console: true
"""
LONG = "Un long texte d'introduction sans rapport. " * 12
HOSTILE = "&amp;lt;img src=x onerror=alert(1)&amp;gt; démarchage &amp; ]]&gt; &quot;x&quot;"
# each round publishes one more item: seen, and alerted, in this order
PUBLISHED = [
    {"title": "Le démarchage interdit", "link": "https://x.ma/1",
     "summary": f"{LONG}Le démarchage téléphonique sera interdit dès janvier. {LONG}"},
    {"title": HOSTILE, "link": "https://x.ma/2?a=1&amp;b=2", "summary": "rien"},
    {"title": "الذكاء الاصطناعي والديمقراطية", "link": "https://x.ma/3", "summary": "نص"},
    {"title": "Rien à voir", "link": "https://x.ma/4", "summary": "météo"},
    {"title": "Démarchage et intelligence artificielle", "link": "https://x.ma/5",
     "summary": "Les robots d'appel."},
]  # fmt: skip


def _write(folder: Path, feed: str, base: bool = True) -> Path:
    path = folder / "monitor.yaml"
    prefix = f"  base_url: {BASE}\n" if base else ""
    path.write_text(
        CONFIG.format(folder=folder, feed=feed, base=prefix, hash=CHEAP.hash("x")), encoding="utf-8"
    )
    return path


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _daemon_with_alerts(tmp_path: Path, feeds: FeedServer, clock: FakeClock) -> App:
    """A daemon (not yet entered) whose store holds the PUBLISHED items, one poll each."""
    config = load_config(str(_write(tmp_path, f"{feeds.url}/f")))
    app = App(config, clock=clock)
    await app.__aenter__()
    for n in range(len(PUBLISHED)):
        items = [
            dict(item, guid=f"g{k}", published=clock.now - timedelta(minutes=5))
            for k, item in enumerate(PUBLISHED[: n + 1])
        ]
        feeds.resources["/f"] = Resource(rss(items))
        await app.run_once()
        clock.advance(timedelta(minutes=20))
    return app


def _feed_urls(stdout: str) -> dict[str, str]:
    return dict(line.split() for line in stdout.splitlines())


def _local(url: str, port: int) -> str:
    return url.replace(BASE, f"http://127.0.0.1:{port}")


async def _get(
    client: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> tuple[int, CIMultiDict[str], bytes]:
    async with client.get(url, headers=headers or {}) as reply:
        return reply.status, reply.headers.copy(), await reply.read()


@pytest.mark.slow
async def test_a_rules_feed_reads_back_as_atom_and_a_rotated_key_cuts_it_off(
    tmp_path: Path, feeds: FeedServer, client: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    app = await _daemon_with_alerts(tmp_path, feeds, clock)
    try:
        port = await serve_http(app)
        assert port
        listed = await asyncio.to_thread(monitor, "feeds", "-c", "monitor.yaml", cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        urls = _feed_urls(listed.stdout)
        assert list(urls) == ["demarchage", "ia"]
        assert all(
            re.fullmatch(rf"{BASE}/feeds/{rule}\.atom\?key=[\w-]{{43}}", url)
            for rule, url in urls.items()
        ), urls
        url = _local(urls["demarchage"], port)
        status, headers, body = await _get(client, url)
        assert status == 200, body
        assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "no-cache" in headers["Cache-Control"] and "private" in headers["Cache-Control"]

        parsed: Any = feedparser.parse(body)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.version == "atom10"
        assert parsed.feed.title == "monitor — Démarchage téléphonique"
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [
            urls["demarchage"]
        ]
        entries = parsed.entries
        stored = await rule_alerts(app.store.engine, "demarchage")
        # newest first: item 5, then the hostile one, then item 1 (3 and 4 are not démarchage)
        assert [e.title for e in entries] == [a.stored.item.title for a in stored]
        assert [e.get("link") for e in entries] == [a.stored.item.link for a in stored]
        assert entries[0].title == "Démarchage et intelligence artificielle"
        assert entries[0].link == "https://x.ma/5"
        assert entries[-1].link == "https://x.ma/1"
        assert len(entries) == 3
        assert len({e.id for e in entries}) == 3
        assert all(e.id.startswith("urn:uuid:") for e in entries)
        assert [e.author for e in entries] == ["presse"] * 3
        assert [[t.term for t in e.tags] for e in entries] == [["démarchage"]] * 3
        # the summary is the digest's snippet around the term, not the article's start
        summary = entries[-1].summary
        assert "Le démarchage téléphonique sera interdit" in summary
        assert summary.startswith("…") and len(summary) < 300
        assert [e.updated_parsed > f.updated_parsed for e, f in itertools.pairwise(entries)] == [
            True,
            True,
        ]
        # the hostile title is text: the document has no element but Atom's
        root = ET.fromstring(body)
        assert {element.tag.split("}")[0][1:] for element in root.iter()} == {ATOM}
        hostile = entries[1]
        assert hostile.title == stored[1].stored.item.title and "onerror" in hostile.title
        assert hostile.title_detail.type == "text/plain"

        arabic = await _get(client, _local(urls["ia"], port))
        parsed = feedparser.parse(arabic[2])
        assert parsed.feed.title == "monitor — ia"
        assert [e.title for e in parsed.entries] == [
            "Démarchage et intelligence artificielle",
            "الذكاء الاصطناعي والديمقراطية",
        ]
        assert [[t.term for t in e.tags] for e in parsed.entries] == [
            ["intelligence artificielle"],
            ["الذكاء الاصطناعي"],
        ]

        # conditional GETs: the same feed is 304 with no body
        again = await _get(client, url, {"If-None-Match": headers["ETag"]})
        assert (again[0], again[2]) == (304, b"")
        assert again[1]["ETag"] == headers["ETag"]
        since = await _get(client, url, {"If-Modified-Since": headers["Last-Modified"]})
        assert (since[0], since[2]) == (304, b"")
        assert (await _get(client, url, {"If-None-Match": '"other"'}))[0] == 200

        # a wrong key, no key, another rule's key, an unknown rule: the same 404
        base = url.split("?")[0]
        wrong = [
            url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"),
            base,
            f"{base}?key=",
            f"{base}?key={urls['ia'].split('key=')[1]}",
            url.replace("/demarchage.atom", "/nothing.atom"),
        ]
        for attempt in wrong:
            status, headers_404, body_404 = await _get(client, attempt)
            assert (status, body_404) == (404, b"not found"), attempt
            assert headers_404["X-Content-Type-Options"] == "nosniff"

        rotated = await asyncio.to_thread(
            monitor, "feeds", "rotate-key", "-c", "monitor.yaml", cwd=tmp_path
        )
        assert rotated.returncode == 0, rotated.stderr
        assert "no longer works" in rotated.stdout
        assert (await _get(client, url))[0] == 404  # the running server, at once
        relisted = await asyncio.to_thread(monitor, "feeds", "-c", "monitor.yaml", cwd=tmp_path)
        fresh = _feed_urls(relisted.stdout)
        assert fresh["demarchage"] != urls["demarchage"]
        assert (await _get(client, _local(fresh["demarchage"], port)))[0] == 200
    finally:
        await app.__aexit__(None, None, None)


@pytest.mark.slow
async def test_without_base_url_feeds_lists_paths_and_the_feed_links_to_itself(
    tmp_path: Path, feeds: FeedServer, client: aiohttp.ClientSession
) -> None:
    feeds.resources["/f"] = Resource(rss([]))
    config = load_config(str(_write(tmp_path, f"{feeds.url}/f", base=False)))
    async with App(config, clock=FakeClock()) as app:
        await app.run_once()
        port = await serve_http(app)
        listed = await asyncio.to_thread(monitor, "feeds", "-c", "monitor.yaml", cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert "http.base_url is not set" in listed.stderr
        urls = _feed_urls(listed.stdout)
        assert re.fullmatch(r"/feeds/ia\.atom\?key=[\w-]{43}", urls["ia"]), urls
        url = f"http://127.0.0.1:{port}{urls['ia']}"
        status, _, body = await _get(client, url)
        assert status == 200
        parsed: Any = feedparser.parse(body)
        assert not parsed.bozo and parsed.entries == []
        assert [link.href for link in parsed.feed.links if link.rel == "self"] == [url]
