"""A source's headers, user agent and credentials through a whole poll: they open its own feed,
and go to no page or feed on another origin (article pages, feeds a home page announces)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiohttp import web

from monitor.daemon.app import App
from tests.support.daemon import sources_config, webhook_subscriber
from tests.support.origins import Origin, basic, html
from tests.support.peers import FakeClock, WebhookReceiver, rss

UA = "Veille/2.0"
AUTH = basic("veille", "CanaryPass-47")
PRIVATE = ("authorization", "x-api-key")


def dressed(name: str, url: str, extra: str = "") -> str:
    return (
        f"  - name: {name}\n    url: {url}\n{extra}    user_agent: {UA}\n"
        "    headers: {X-Api-Key: k-123456}\n    username: veille\n    password: CanaryPass-47\n"
    )


def wanting() -> Origin:
    return Origin(wants={"x-api-key": "k-123456", "user-agent": UA, "authorization": AUTH})


async def test_article_pages_get_the_credentials_on_the_source_s_origin_only(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    recent = clock.now - timedelta(hours=1)
    page = html("<html><body><article><p>Un article.</p></article></body></html>")
    async with wanting() as site, Origin() as elsewhere:
        items = [
            {"guid": "1", "title": "Ici", "link": f"{site.url}/a/1", "published": recent},
            {"guid": "2", "title": "Ailleurs", "link": f"{elsewhere.url}/a/2", "published": recent},
        ]
        site.pages["/feed"] = lambda origin: web.Response(
            body=rss(items), content_type="application/rss+xml"
        )
        site.pages["/a/1"] = elsewhere.pages["/a/2"] = page
        source = dressed("eco", f"{site.url}/feed", "    fetch_article: true\n")
        config = sources_config(tmp_path, source, webhook_subscriber(receiver.url))
        async with App(config, clock=clock) as app:
            await app.run_once()
            state = (await app.store.states(["eco"]))["eco"]
    assert (state.last_result, state.last_new_items) == ("ok", 2)
    (own,) = site.headers_at("/a/1")
    assert own["authorization"] == AUTH and own["x-api-key"] == "k-123456"
    (other,) = elsewhere.headers_at("/a/2")
    assert not set(PRIVATE) & set(other) and other["user-agent"] == UA


async def test_a_feed_announced_on_another_origin_gets_no_credentials(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    async with wanting() as site, Origin() as elsewhere:
        link = f'<link rel="alternate" type="application/rss+xml" href="{elsewhere.url}/rss">'
        site.pages["/"] = html(f"<!doctype html><html><head>{link}</head><body></body></html>")
        source = dressed("home", f"{site.url}/", "    kind: auto\n")
        config = sources_config(tmp_path, source, webhook_subscriber(receiver.url))
        async with App(config, clock=clock) as app:
            await app.run_once()
            state = (await app.store.states(["home"]))["home"]
    assert state.last_result == "ok" and state.url == f"{elsewhere.url}/rss"
    (home,) = site.headers_at("/")
    assert home["authorization"] == AUTH
    (feed,) = elsewhere.headers_at("/rss")
    assert not set(PRIVATE) & set(feed) and feed["user-agent"] == UA
