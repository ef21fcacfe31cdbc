"""The ``google_news`` kind (issue 8): a query becomes Google News' RSS search; items whose
Google link holds the publisher's link are known by it, so the outlet's own copy is not alerted
twice; the others keep their Google link."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.load import parse_config
from monitor.config.model import Config
from monitor.config.sources import GoogleNewsSourceConfig, search_url
from monitor.core.errors import ConfigError
from monitor.core.models import Fetched
from monitor.daemon.app import App
from monitor.digest.stories import cluster
from monitor.sources.googlenews import GoogleNewsKind, publisher_link
from monitor.sources.registry import kind_of
from tests.support.daemon import sources_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss
from tests.support.stories import item

# an older article id: a base64 protobuf holding the publisher's link (and its AMP page)
OLD = (
    "https://news.google.com/rss/articles/CBMiLmh0dHBzOi8vd3d3LmJiYy5jb20vbmV3cy9hcnRpY2xlcy9ja"
    "mpqbnhkdjE4OG_SATJodHRwczovL3d3dy5iYmMuY29tL25ld3MvYXJ0aWNsZXMvY2pqam54ZHYxODhvLmFtcA?oc=5"
)
# a newer one: a token only Google can turn into a link
NEW = (
    "https://news.google.com/rss/articles/CBMiVkFVX3lxTE4zaGU2bTY2ZGkzdTRkSkJ0cFpsTGlDUjkxU2FBR"
    "URaTWU0c3QzVWZ1MHZZNkZ5Vzk1ZVBnTDFHY2R6ZmdCUkpUTUJsS1pqQTlCRzlzbHV3?oc=5"
)
PUBLISHED = "https://www.bbc.com/news/articles/cjjjnxdv188o"


def with_outlet(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    story: str,
    link: str,
    published: datetime,
) -> Config:
    """A Google News search served at ``feeds`` and the outlet's own feed, which carries
    ``story`` at ``link``; an immediate webhook subscriber to every rule."""
    feeds.resources["/bbc"] = Resource(
        rss([{"guid": "b1", "title": story, "link": link, "published": published}])
    )
    sources = (
        f"  - name: gnews\n    google_news: IA\n    endpoint: {feeds.url}\n"
        f"  - name: bbc\n    url: {feeds.url}/bbc\n"
    )
    return sources_config(tmp_path, sources, webhook_subscriber(receiver.url))


@pytest.mark.parametrize(
    ("link", "publisher"),
    [
        (OLD, PUBLISHED),
        (OLD.replace("/rss/articles/", "/articles/"), PUBLISHED),
        (NEW, None),
        ("https://news.google.com/rss/articles/!!!", None),
        ("https://news.google.com/rss/articles/CBMi", None),  # cut short
        ("https://www.bbc.com/news/articles/CBMiLmh0dHBz", None),  # not Google's
    ],
)
def test_publisher_links(link: str, publisher: str | None) -> None:
    assert publisher_link(link) == publisher


def test_a_publisher_link_with_letters_beyond_ascii() -> None:
    url = "https://www.hespress.com/fr/économie-démarchage-123.html".encode()
    data = b"\x08\x13\x22" + bytes([len(url)]) + url  # one byte of length: under 128
    token = base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert publisher_link(f"https://news.google.com/rss/articles/{token}?oc=5") == url.decode()


def test_a_query_is_google_news_search_feed_in_one_edition() -> None:
    text = (
        "sources:\n  - name: g\n    google_news: '\"centres d''appels\" Maroc'\n"
        "    language: fr\n    country: MA\n"
    )
    source = parse_config(text, "monitor.yaml", {}).sources[0]
    assert isinstance(source, GoogleNewsSourceConfig)
    assert source.url == (
        "https://news.google.com/rss/search?q=%22centres+d%27appels%22+Maroc&hl=fr&gl=MA&ceid=MA:fr"
    )
    assert kind_of(source) == GoogleNewsKind()
    assert search_url("IA", "en-GB", "GB") == (
        "https://news.google.com/rss/search?q=IA&hl=en-GB&gl=GB&ceid=GB:en"
    )


def test_an_edition_that_is_not_one_is_a_config_error() -> None:
    text = "sources:\n  - name: g\n    google_news: IA\n    language: French\n    country: ma\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "monitor.yaml", {})
    assert [p.split(": ")[1] for p in caught.value.problems] == [
        "sources[0].language",
        "sources[0].country",
    ]


def test_items_are_known_by_their_publisher_link_where_google_gives_it() -> None:
    body = rss(
        [
            {"guid": "g1", "title": "BBC story - BBC", "link": OLD},
            {"guid": "g2", "title": "Other story - Le Matin", "link": NEW},
        ]
    )
    fetched = Fetched("https://news.google.com/rss/search?q=x", 200, body, None, None, None)
    entries = GoogleNewsKind().parse(fetched).entries
    assert [(e.guid, e.link) for e in entries] == [(None, PUBLISHED), ("g2", NEW)]


async def test_an_article_from_google_news_and_from_its_outlet_alerts_once(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    recent = clock.now - timedelta(hours=1)
    story = "L'IA dans les centres d'appels"
    feeds.resources["/rss/search"] = Resource(
        rss([{"guid": "g1", "title": f"{story} - BBC", "link": OLD, "published": recent}])
    )
    config = with_outlet(tmp_path, feeds, receiver, story, PUBLISHED, recent)
    async with App(config, clock=clock) as app:
        await app.run_once()
    alerted = [i["link"] for r in receiver.accepted() for i in json.loads(r.body)["items"]]
    assert alerted == [PUBLISHED]
    assert feeds.hits["/rss/search"] == 1


@pytest.mark.slow
async def test_google_links_that_redirect_are_known_by_the_publishers_link(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    """A Google link that answers with a plain redirect off Google is the publisher's link:
    the outlet's own copy alerts once. One that answers a page of Google's, or redirects within
    Google, or cannot be asked, keeps its Google link; none of them is lost."""
    clock = FakeClock()
    recent = clock.now - timedelta(hours=1)
    story = "Démarchage : la fin des appels à froid"
    google = f"{feeds.url}/rss/articles"
    titles = [f"{story} - BBC", "Démarchage : page", "Démarchage : boucle", "Démarchage : muet"]
    items = [
        {"guid": f"g{n}", "title": title, "link": f"{google}/{path}", "published": recent}
        for n, (title, path) in enumerate(zip(titles, ["a?oc=5", "b", "c", "d"], strict=True))
    ]
    feeds.resources["/rss/search"] = Resource(rss(items))
    publisher = "https://www.bbc.com/news/articles/fin-appels"
    redirect = {"Location": f"{publisher}?utm_source=google"}
    feeds.resources["/rss/articles/a"] = Resource(b"", status=302, headers=redirect)
    feeds.resources["/rss/articles/b"] = Resource(b"<html></html>", content_type="text/html")
    feeds.resources["/rss/articles/c"] = Resource(b"", status=301, headers={"Location": "/rss/x"})
    # /rss/articles/d answers 404
    config = with_outlet(tmp_path, feeds, receiver, story, publisher, recent)
    async with App(config, clock=clock) as app:
        await app.run_once()
        await app.run_once()  # seen: nothing asked again
    alerted = sorted(i["link"] for r in receiver.accepted() for i in json.loads(r.body)["items"])
    assert alerted == sorted([publisher, f"{google}/b", f"{google}/c", f"{google}/d"])
    assert [feeds.hits[f"/rss/articles/{p}"] for p in "abcd"] == [1, 1, 1, 1]
    assert feeds.hits["/rss/x"] == 0  # a redirect is read, never followed


def test_an_item_left_on_googles_link_is_one_story_with_the_outlets_copy() -> None:
    """Where Google's link cannot be turned into the publisher's, a ``group_by: story``
    digest still shows the Google item and the outlet's copy as one story (issue 4's
    clustering drops Google's " - Outlet" ending)."""
    story = "Démarchage téléphonique : les centres d'appels marocains misent sur l'IA"
    items = [item(f"{story} - Le Matin", "gnews", 10), item(story, "lematin", 20)]
    (only,) = cluster(items)
    assert {only.lead.id, *(other.id for other in only.others)} == {i.id for i in items}
