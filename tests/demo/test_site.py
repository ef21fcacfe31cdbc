"""The demo's news site: feeds as WordPress and Jekyll write them, read by feedparser as any
reader would, a new post on top at each publish, 304 to a conditional GET, article pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import feedparser
import pytest
from multidict import CIMultiDict

from monitor.demo.feeds import OUTLETS, Headline
from monitor.demo.site import KEPT, NewsSite
from tests.support.peers import FakeClock

HEADLINES = [
    Headline("eco-du-jour", "Démarchage : l'été des plateformes", "Résumé un.", ("d",), True),
    Headline("atlas-wire", "Rain in Tangier", "Summary & more.", (), True),
    Headline("eco-du-jour", "Météo : soleil", "Résumé deux.", ()),
    Headline("akhbar-atlas", "مراكز الاتصال", "ملخص.", ("c",)),
]


@pytest.fixture
async def site() -> AsyncIterator[NewsSite]:
    server = NewsSite(HEADLINES, clock=FakeClock())
    await server.start()
    yield server
    await server.close()


async def _get(
    url: str, headers: dict[str, str] | None = None
) -> tuple[int, str, CIMultiDict[str]]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, await resp.text(), CIMultiDict(resp.headers)


async def test_the_feeds_start_with_the_start_headlines_and_grow_on_publish(
    site: NewsSite,
) -> None:
    eco, wire, akhbar = (site.url + outlet.feed_path for outlet in OUTLETS)
    status, body, headers = await _get(eco)
    assert status == 200 and headers["Content-Type"] == "application/rss+xml; charset=UTF-8"
    assert "<generator>https://wordpress.org/" in body and "l&#8217;été" in body
    parsed = feedparser.parse(body)
    assert [e.title for e in parsed.entries] == ["Démarchage : l’été des plateformes"]
    [start] = parsed.entries
    assert start.id == f"{site.url}/eco-du-jour/?p=1001"
    assert start.link.startswith(f"{site.url}/eco-du-jour/2026/11/26/demarchage-l-ete-des-")
    assert start.published == "Thu, 26 Nov 2026 08:15:00 +0000"  # 45 min before the clock
    status, body, headers = await _get(wire)
    assert headers["Content-Type"] == "application/atom+xml; charset=UTF-8"
    atom = feedparser.parse(body)
    assert atom.version == "atom10" and atom.feed.generator == "Jekyll"
    assert [(e.title, e.summary) for e in atom.entries] == [("Rain in Tangier", "Summary & more.")]
    assert atom.entries[0].published == "2026-11-26T08:37:30+00:00"  # after the other
    assert feedparser.parse((await _get(akhbar))[1]).entries == []

    site.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    posted = site.publish()
    assert posted.headline.title == "Météo : soleil"
    entries = feedparser.parse((await _get(eco))[1]).entries
    assert [e.title for e in entries] == ["Météo : soleil", "Démarchage : l’été des plateformes"]
    assert entries[0].published == "Thu, 26 Nov 2026 09:01:00 +0000"
    arabic = site.publish()  # no ASCII slug: WordPress's plain permalink
    assert arabic.path == "/akhbar-atlas/?p=1004"
    assert [e.link for e in feedparser.parse((await _get(akhbar))[1]).entries] == [
        site.url + arabic.path
    ]


async def test_headlines_come_round_again_as_new_posts_and_a_feed_keeps_ten(
    site: NewsSite,
) -> None:
    titles = [site.publish().headline.title for _ in range(6)]
    # the headlines not out at the start, then all of them
    assert titles == [h.title for h in HEADLINES[2:] + HEADLINES]
    paths = [p.path for p in site.posts["eco-du-jour"]]
    assert len(paths) == len(set(paths)) == 4
    assert paths[1].endswith("/demarchage-l-ete-des-plateformes-2/")  # as WordPress does
    for _ in range(3 * KEPT):
        site.publish()
    assert len(site.posts["eco-du-jour"]) == KEPT


async def test_a_conditional_get_is_answered_304_until_something_is_published(
    site: NewsSite,
) -> None:
    url = site.url + OUTLETS[0].feed_path
    _, _, headers = await _get(url)
    assert (await _get(url, {"If-None-Match": headers["ETag"]}))[0] == 304
    site.publish()
    assert (await _get(url, {"If-None-Match": headers["ETag"]}))[0] == 200


async def test_each_post_has_its_page_and_nothing_else_is_served(site: NewsSite) -> None:
    post = site.publish()
    status, body, _ = await _get(site.url + post.path)
    assert status == 200 and "<h1>Météo : soleil</h1>" in body
    arabic = site.publish()
    status, body, _ = await _get(site.url + arabic.path)
    assert status == 200 and 'dir="rtl"' in body
    assert (await _get(site.url + "/eco-du-jour/nope/"))[0] == 404
