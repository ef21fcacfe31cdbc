"""``fetch_article: true`` (issue 8): each new item's own page is read and its main text
matched, so a feed giving only titles still alerts on what its articles say."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.sections import LimitsConfig, NetworkConfig
from monitor.core.models import Fetched, Item
from monitor.daemon.app import App
from monitor.net.http import HttpClient
from monitor.net.options import request_options
from monitor.poll.articles import ArticleReader
from monitor.poll.budget import UNLIMITED
from monitor.sources.article import ArticleKind
from monitor.sources.parser import Parser
from tests.support.daemon import NO_TIME_TO_SPARE, sources_config, webhook_subscriber
from tests.support.origins import Origin, html
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss

ARTICLE = """<!DOCTYPE html><html lang="fr"><head><title>Économie</title></head><body>
<nav><a href="/">Accueil</a> <a href="/eco">Économie</a> <a href="/ia">IA</a></nav>
<article><h1>Le secteur se prépare</h1>
<p>À partir d'août 2026, la France interdit le démarchage téléphonique non sollicité. Les
opérateurs de Casablanca et de Rabat préparent leur reconversion depuis des mois déjà.</p>
<p>Plusieurs groupes misent sur des services à plus forte valeur ajoutée pour leurs clients
français, avec des équipes formées au conseil et à la relation client à distance.</p>
</article>
<aside>Les plus lus : météo, football, centres d'appels</aside>
<footer>© 2026 Exemple Média</footer></body></html>"""


def page(body: str) -> Fetched:
    return Fetched("https://x.ma/a/1", 200, body.encode(), "text/html", None, None)


def test_the_main_text_of_a_page_is_its_article_not_its_menus() -> None:
    (entry,) = ArticleKind().parse(page(ARTICLE)).entries
    assert "interdit le démarchage téléphonique" in entry.content
    assert "Accueil" not in entry.content and "Les plus lus" not in entry.content
    assert entry.link == "https://x.ma/a/1"


def test_a_page_without_text_gives_nothing() -> None:
    assert ArticleKind().parse(page("<html><body><img src=x.png></body></html>")).entries == []


@pytest.mark.slow
async def test_items_alert_on_their_article_and_keep_their_feed_text_when_unread(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    recent = clock.now - timedelta(hours=1)
    titles = ["Le secteur se prépare", "Une page perdue", "Sans rapport"]
    feeds.resources["/feed"] = Resource(
        rss([{"guid": str(n), "title": t, "link": f"{feeds.url}/a/{n}", "published": recent}
             for n, t in enumerate(titles)])
    )  # fmt: skip
    feeds.resources["/a/0"] = Resource(ARTICLE.encode(), "text/html; charset=utf-8")
    feeds.resources["/a/2"] = Resource(b"<html><body><p>Rien.</p></body></html>", "text/html")
    sources = "".join(
        f"  - name: {name}\n    url: {feeds.url}/feed\n    fetch_article: true\n"
        for name in ("eco", "same")
    )
    config = sources_config(tmp_path, sources, webhook_subscriber(receiver.url))
    async with App(config, clock=clock) as app:
        await app.run_once()
        state = (await app.store.states(["eco"]))["eco"]
    assert (state.last_result, state.last_new_items) == ("ok", 3)  # /a/1 missing: not lost
    alerted = [i for r in receiver.accepted() for i in json.loads(r.body)["items"]]
    assert [i["title"] for i in alerted] == ["Le secteur se prépare"]
    assert alerted[0]["terms"] == {"demarchage": ["démarchage"]}
    assert feeds.hits["/a/0"] == 1  # two sources carry it: its page is read once


async def test_pages_that_could_outlast_the_lease_are_not_read_and_the_item_stays(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    item = {"guid": "0", "title": "Le secteur se prépare", "link": f"{feeds.url}/a/0",
            "published": clock.now - timedelta(hours=1)}  # fmt: skip
    feeds.resources["/feed"] = Resource(rss([item]))
    feeds.resources["/a/0"] = Resource(ARTICLE.encode(), "text/html; charset=utf-8")
    source = f"  - name: eco\n    url: {feeds.url}/feed\n    fetch_article: true\n"
    config = sources_config(tmp_path, source, webhook_subscriber(receiver.url), NO_TIME_TO_SPARE)
    with caplog.at_level(logging.WARNING, logger="monitor"):
        async with App(config, clock=clock) as app:
            await app.run_once()
            state = (await app.store.states(["eco"]))["eco"]
    assert (state.last_result, state.last_new_items) == ("ok", 1)  # recorded, not lost
    assert feeds.hits["/a/0"] == 0 and receiver.accepted() == []  # its title matches nothing
    assert any(r.getMessage().startswith("articles-unread") for r in caplog.records)


async def test_a_page_read_with_a_source_s_login_is_that_source_s_alone() -> None:
    # two sources link the same page of a site; one has a login there: the other must not get
    # what only that login could read, nor the first the other's teaser (monitor.poll.articles)
    page = "<html><body><article><p>" + "Le texte réservé aux abonnés. " * 8 + "</p></article>"
    async with Origin() as site:
        site.pages["/a/1"] = html(page + "</body></html>")
        link = f"{site.url}/a/1"
        login = request_options(f"{site.url}/feed", {}, None, ("veille", "s3cret"), None)
        now = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)

        def item(source: str) -> Item:
            return Item(source, f"k-{source}", link, "Titre", "", "", now)

        network = NetworkConfig.model_validate({"allow": ["127.0.0.0/8"]})
        async with HttpClient(network) as http, Parser(LimitsConfig()) as parser:
            reader = ArticleReader(http, parser)
            (own,) = await reader.read([item("abonne")], now, UNLIMITED, login)
            (other,) = await reader.read([item("public")], now, UNLIMITED)
            (again,) = await reader.read([item("public2")], now, UNLIMITED)
    asked = site.headers_at("/a/1")
    assert ["authorization" in headers for headers in asked] == [True, False]  # 2 reads, not 1
    assert "réservé" in own.content and "réservé" in other.content and again.content
