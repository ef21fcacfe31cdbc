"""The ``sitemap`` kind (issue 8): Google News and ordinary sitemaps, indexes followed one
level, gzip members; by the parser alone and through the daemon against a loopback site."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.sources import SitemapSourceConfig
from monitor.core.errors import ParseError
from monitor.core.models import Fetched, SourceState
from monitor.daemon.app import App
from monitor.poll.pipeline import _read_until
from monitor.sources import sitemap
from monitor.sources.registry import kind_of
from monitor.sources.sitemap import SitemapKind, slug_title
from tests.support.daemon import NO_TIME_TO_SPARE, sources_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver

URLSET = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{}</urlset>'
)
INDEX = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</sitemapindex>'
)


def news_url(loc: str, title: str, when: datetime) -> str:
    return (
        f"<url><loc>{loc}</loc><news:news><news:publication><news:name>Le Matin</news:name>"
        "<news:language>fr</news:language></news:publication>"
        f"<news:publication_date>{when.isoformat()}</news:publication_date>"
        f"<news:title>{title}</news:title></news:news></url>"
    )


def plain_url(loc: str, lastmod: str | None) -> str:
    return f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>"


def child(loc: str, lastmod: str | None) -> str:
    modified = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"<sitemap><loc>{loc}</loc>{modified}</sitemap>"


def doc(text: str, url: str = "https://lematin.ma/sitemap.xml") -> Fetched:
    return Fetched(url, 200, text.encode(), "application/xml", None, None)


T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_a_sitemap_source_reads_what_is_dated_from_the_day_before_its_last_poll() -> None:
    source = SitemapSourceConfig(name="s", url="https://x.ma/sitemap.xml", kind="sitemap")
    assert kind_of(source) == SitemapKind(since=None)  # a first poll reads every URL
    assert kind_of(source, T0) == SitemapKind(since=T0 - timedelta(days=1))


def test_a_google_news_sitemap_gives_titles_and_dates_newest_first() -> None:
    body = URLSET.format(
        news_url("https://lematin.ma/eco/1", "Le démarchage téléphonique interdit", T0)
        + news_url("https://lematin.ma/eco/2", "Les centres d'appels et l'IA", T0 + timedelta(1))
    )
    parsed = SitemapKind().parse(doc(body))
    assert [(e.title, e.link, e.published) for e in parsed.entries] == [
        ("Les centres d'appels et l'IA", "https://lematin.ma/eco/2", T0 + timedelta(1)),
        ("Le démarchage téléphonique interdit", "https://lematin.ma/eco/1", T0),
    ]


def test_an_ordinary_sitemap_titles_its_urls_by_their_words_and_keeps_recent_ones() -> None:
    body = URLSET.format(
        plain_url("https://x.ma/eco/fin-du-demarchage-telephonique-245871.html", "2026-11-26")
        + plain_url("https://x.ma/eco/vieux-sujet", "2026-10-01T10:00:00+00:00")
        + plain_url("https://x.ma/a-propos/", None)
        + plain_url("javascript:alert(1)", "2026-11-26")
    )
    parsed = SitemapKind(since=T0 - timedelta(days=2)).parse(doc(body), max_items=10)
    assert [(e.title, e.published) for e in parsed.entries] == [
        ("fin du demarchage telephonique", datetime(2026, 11, 26, tzinfo=UTC)),
        ("a propos", None),  # undated: kept (what was seen is not new again)
    ]


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://x.ma/2026/11/26/centres-d-appels-maroc/", "centres d appels maroc"),
        ("https://x.ma/article/245871", "article"),
        ("https://x.ma/eco/l%C3%A9conomie_num%C3%A9rique.php", "léconomie numérique"),
        ("https://x.ma/", ""),
    ],
)
def test_slug_titles(url: str, title: str) -> None:
    assert slug_title(url) == title


def test_an_index_names_its_recent_sitemaps_newest_first() -> None:
    body = INDEX.format(
        child("https://x.ma/sitemap-2026-10.xml.gz", "2026-10-31")
        + child("https://x.ma/sitemap-2026-11.xml.gz", "2026-11-26T08:00:00Z")
        + child("https://x.ma/sitemap-news.xml", None)
        + child("ftp://x.ma/other.xml", None)
    )
    parsed = SitemapKind(since=T0 - timedelta(days=1)).parse(doc(body))
    assert (parsed.entries, parsed.follow) == (
        [],
        ("https://x.ma/sitemap-news.xml", "https://x.ma/sitemap-2026-11.xml.gz"),
    )


def test_the_sitemap_namespace_written_otherwise_or_not_at_all() -> None:
    body = "<sitemapindex><sitemap><loc>https://x.ma/s1.xml</loc></sitemap></sitemapindex>"
    assert SitemapKind().parse(doc(body)).follow == ("https://x.ma/s1.xml",)
    wrong = URLSET.replace("http://www.sitemaps.org", "https://www.sitemaps.org")
    body = wrong.format(plain_url("https://x.ma/eco/le-demarchage", "2026-11-26"))
    assert [e.title for e in SitemapKind().parse(doc(body)).entries] == ["le demarchage"]


def test_a_failing_sitemap_reads_from_before_its_first_failure() -> None:
    state = SourceState("s", "https://x.ma/s.xml", last_poll_at=T0)
    assert _read_until(state) == T0
    failing = replace(state, error_count=3, failing_since=T0 - timedelta(days=2))
    assert _read_until(failing) == T0 - timedelta(days=2)


def test_an_index_is_followed_at_most_follow_sitemaps() -> None:
    body = INDEX.format("".join(child(f"https://x.ma/s{n}.xml", None) for n in range(30)))
    assert len(SitemapKind().parse(doc(body)).follow) == sitemap.FOLLOW


def test_gzip_sitemaps_are_read_within_a_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    body = URLSET.format(news_url("https://x.ma/1", "Un", T0)).encode()
    packed = Fetched(
        "https://x.ma/s.xml.gz", 200, gzip.compress(body), "application/x-gzip", None, None
    )
    assert [e.title for e in SitemapKind().parse(packed).entries] == ["Un"]
    monkeypatch.setattr(sitemap, "MAX_SIZE", 100)
    with pytest.raises(ParseError, match="larger than"):
        SitemapKind().parse(packed)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<html><body>Accueil</body></html>", "not a sitemap: the document is <html>"),
        ("<urlset", "not a sitemap: "),
        (
            '<!DOCTYPE x [<!ENTITY a "aaaa">]><urlset>&a;</urlset>',
            "declares no DOCTYPE or entities",
        ),
    ],
)
def test_what_is_not_a_sitemap_is_a_parse_error(body: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        SitemapKind().parse(doc(body))


@pytest.mark.slow
async def test_the_daemon_follows_an_index_to_gzip_sitemaps_and_alerts_new_urls_once(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    news = [news_url(f"{feeds.url}/a/1", "Le démarchage téléphonique interdit", clock.now)]
    pages = [plain_url(f"{feeds.url}/a/meteo-du-week-end", clock.now.date().isoformat())]

    def publish() -> None:
        feeds.resources["/sitemap.xml"] = Resource(
            INDEX.format(
                child(f"{feeds.url}/news.xml.gz", None) + child(f"{feeds.url}/p.xml", None)
            ).encode(),
            "application/xml",
        )
        feeds.resources["/news.xml.gz"] = Resource(
            gzip.compress(URLSET.format("".join(news)).encode()), "application/x-gzip"
        )
        feeds.resources["/p.xml"] = Resource(URLSET.format("".join(pages)).encode(), "text/xml")

    publish()
    source = f"  - name: lematin\n    kind: sitemap\n    url: {feeds.url}/sitemap.xml\n"
    config = sources_config(tmp_path, source, webhook_subscriber(receiver.url))
    async with App(config, clock=clock) as app:
        await app.run_once()
        clock.advance(timedelta(hours=1))
        news.append(news_url(f"{feeds.url}/a/2", "Les centres d'appels et l'IA", clock.now))
        pages.append(plain_url(f"{feeds.url}/a/l-ia-dans-les-centres-d-appels", None))
        publish()
        del feeds.resources["/p.xml"]  # one sitemap of the index fails: the whole poll does
        await app.run_once()
        state = (await app.store.states(["lematin"]))["lematin"]
        assert (state.last_result, state.last_status) == ("error", 404)
        clock.advance(timedelta(hours=1))
        publish()
        await app.run_once()
        state = (await app.store.states(["lematin"]))["lematin"]
        assert (state.last_result, state.last_new_items) == ("ok", 2)
    alerted = [[i["title"] for i in json.loads(r.body)["items"]] for r in receiver.accepted()]
    assert alerted == [
        ["Le démarchage téléphonique interdit"],
        ["Les centres d'appels et l'IA", "l ia dans les centres d appels"],
    ]


@pytest.mark.slow
async def test_an_index_whose_sitemaps_could_outlast_the_lease_fails_the_poll(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    """One request and its parse may take 2 s here, and the lease is 3 s (less a margin of
    5 s): no sitemap of the index may be started; the poll fails and says why."""
    feeds.resources["/sitemap.xml"] = Resource(
        INDEX.format(child(f"{feeds.url}/a.xml", None) + child(f"{feeds.url}/b.xml", None)).encode()
    )
    source = f"  - name: lematin\n    kind: sitemap\n    url: {feeds.url}/sitemap.xml\n"
    config = sources_config(tmp_path, source, webhook_subscriber(receiver.url), NO_TIME_TO_SPARE)
    async with App(config, clock=FakeClock()) as app:
        await app.run_once()
        state = (await app.store.states(["lematin"]))["lematin"]
    assert state.last_result == "error"
    assert state.last_error == (
        "2 sitemaps of the index left unread: one more request could outlast the source's "
        "lease (cluster.lease); the next poll tries again"
    )
    assert feeds.hits["/a.xml"] == 0
