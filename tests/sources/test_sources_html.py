"""The ``html`` kind (issue 8): listing pages read with CSS selectors, by the parser alone and
through the whole daemon against a loopback page that changes its layout."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config.load import parse_config
from monitor.config.sources import SOURCE_CONFIGS, HtmlSourceConfig
from monitor.core.errors import ConfigError, ParseError
from monitor.core.models import Fetched
from monitor.daemon.app import App
from monitor.sources.html import HtmlKind
from monitor.sources.normalize import normalize
from monitor.sources.pagedates import parse_page_date
from monitor.sources.registry import kind_of
from tests.support.cli import monitor
from tests.support.daemon import SECRET, sources_config, sources_text, webhook_subscriber
from tests.support.paths import DATA
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver

PAGES = DATA / "pages"
MAGHRESS = HtmlKind(item="div.article", title="h2", date="span.date", summary="p.lead")


def page(body: bytes | str, url: str = "https://www.maghress.com/fr/economie") -> Fetched:
    data = body.encode() if isinstance(body, str) else body
    return Fetched(url, 200, data, "text/html", None, None)


def test_a_listing_page_gives_its_items_with_links_resolved_and_french_dates() -> None:
    parsed = MAGHRESS.parse(page((PAGES / "maghress-listing.html").read_bytes()))
    assert [(e.title[:40], e.link, e.published) for e in parsed.entries] == [
        (
            "Fin du démarchage téléphonique : une mut",
            "https://www.maghress.com/fr/lematin/245871",  # against <base href="/fr/">
            datetime(2025, 11, 15, tzinfo=UTC),
        ),
        (
            "Economie numérique : le Maroc franchit u",
            "https://www.maghress.com/fr/leseco/245870?utm_source=home#top",
            datetime(2025, 11, 15, tzinfo=UTC),
        ),
        (
            "Concentrix. Redouane Mabchour : « Nous n",
            "https://www.maghress.com/fr/medias24/245869",
            datetime(2025, 11, 14, tzinfo=UTC),
        ),
    ]  # the advertisement (no link) and the javascript: link are not items
    assert parsed.total == 3
    assert parsed.entries[1].summary == "Les centres d’appels marocains montent en gamme avec l’IA."
    assert all(e.guid is None and e.content == "" for e in parsed.entries)


def test_an_html_source_is_read_with_its_selectors() -> None:
    source = HtmlSourceConfig.model_validate(
        {"name": "m", "url": "https://x.ma/", "kind": "html", "item": "li", "title": "h3",
         "date": "time", "date_format": "%d/%m/%Y"}
    )  # fmt: skip
    assert kind_of(source) == HtmlKind("li", "h3", date="time", date_format="%d/%m/%Y")


def test_items_are_keyed_by_canonical_link() -> None:
    parsed = MAGHRESS.parse(page((PAGES / "maghress-listing.html").read_bytes()))
    items, _shared = normalize("maghress", parsed.entries, datetime(2026, 1, 1, tzinfo=UTC))
    assert items[1].link == "https://www.maghress.com/fr/leseco/245870"  # no utm_, no fragment
    assert items[1].key == "l:https://www.maghress.com/fr/leseco/245870"


def test_a_page_whose_item_selector_matches_nothing_has_changed() -> None:
    redesigned = "<html><body><article class='post'><h3><a href='/x'>Titre</a></h3></article>"
    with pytest.raises(ParseError, match=r"the page changed: item selector 'div.article'"):
        MAGHRESS.parse(page(redesigned))


def test_items_without_a_title_or_link_mean_the_page_changed() -> None:
    moved = "<div class='article'><h3><a href='/x'>Titre</a></h3></div>" * 3
    with pytest.raises(ParseError, match=r"none of the 3 items .* has a title \('h2'\)"):
        MAGHRESS.parse(page(moved))


def test_explicit_link_attribute_time_element_and_date_format() -> None:
    kind = HtmlKind(
        item="li.news",
        title=".t",
        link="a.more",
        link_attribute="data-href",
        date="time",
        date_format="%d.%m.%Y %H:%M",
    )
    body = """<ul>
      <li class="news"><span class="t">Un</span><a class="more" data-href="/un">+</a>
        <time datetime="2026-11-20T09:30:00+01:00">20 nov.</time></li>
      <li class="news"><span class="t">Deux</span><a class="more" data-href="deux">+</a>
        <time>21.11.2026 10:15</time></li>
      <li class="news"><span class="t">Trois</span><a class="more" data-href="/trois">+</a>
        <time>bientôt</time></li>
    </ul>"""
    entries = kind.parse(page(body, "https://le360.ma/economie/")).entries
    assert [(e.link, e.published) for e in entries] == [
        ("https://le360.ma/un", datetime(2026, 11, 20, 8, 30, tzinfo=UTC)),
        ("https://le360.ma/economie/deux", datetime(2026, 11, 21, 10, 15, tzinfo=UTC)),
        ("https://le360.ma/trois", None),  # undated: recorded silently on a first poll
    ]


def test_the_charset_comes_from_the_header_else_the_page_else_the_bytes() -> None:
    body = "<div class='article'><h2><a href='/a'>Démarchage</a></h2></div>"
    latin = Fetched(
        "https://x.ma/", 200, body.encode("cp1252"), "text/html; charset=windows-1252", None, None
    )
    assert MAGHRESS.parse(latin).entries[0].title == "Démarchage"
    declared = f"<html><head><meta charset='iso-8859-1'></head><body>{body}</body></html>"
    untyped = Fetched("https://x.ma/", 200, declared.encode("latin-1"), "text/html", None, None)
    assert MAGHRESS.parse(untyped).entries[0].title == "Démarchage"
    for encoding in ("utf-8", "cp1252"):  # nothing declared: UTF-8 if it is, else Windows-1252
        bare = Fetched("https://x.ma/", 200, body.encode(encoding), "text/html", None, None)
        assert MAGHRESS.parse(bare).entries[0].title == "Démarchage"


def test_an_article_shown_twice_on_the_page_is_one_item() -> None:
    body = (
        "<div class='article une'><h2><a href='/fr/1?utm_medium=une'>À la une</a></h2></div>"
        "<div class='article'><h2><a href='/fr/1?utm_medium=une'>À la une (liste)</a></h2></div>"
        "<div class='article'><h2><a href='/fr/2'>Deux</a></h2></div>"
    )
    assert [e.title for e in MAGHRESS.parse(page(body)).entries] == ["À la une", "Deux"]


@pytest.mark.parametrize(
    ("text", "date_format", "when"),
    [
        ("15 - 11 - 2025", None, datetime(2025, 11, 15, tzinfo=UTC)),
        ("samedi 15 novembre 2025 à 10h30", None, datetime(2025, 11, 15, 10, 30, tzinfo=UTC)),
        ("Sat, Nov 15, 2025 10:30 pm", None, datetime(2025, 11, 15, 22, 30, tzinfo=UTC)),
        ("15th November 2025", None, datetime(2025, 11, 15, tzinfo=UTC)),
        ("2025-11-15T10:00:00+01:00", None, datetime(2025, 11, 15, 9, tzinfo=UTC)),
        ("15.11.2025 10:30", "%d.%m.%Y %H:%M", datetime(2025, 11, 15, 10, 30, tzinfo=UTC)),
        ("15/11/2025", "%d.%m.%Y", datetime(2025, 11, 15, tzinfo=UTC)),  # the format fails
        ("9999-12-31T23:59:59-12:00", None, None),  # past the calendar: no date, no error
        ("hier", None, None),
    ],
)
def test_page_dates(text: str, date_format: str | None, when: datetime | None) -> None:
    assert parse_page_date(text, date_format) == when


def test_max_items_keeps_the_first_and_counts_them_all() -> None:
    body = "".join(f"<div class='article'><h2><a href='/{n}'>T{n}</a></h2></div>" for n in range(7))
    parsed = MAGHRESS.parse(page(body), max_items=2)
    assert [e.title for e in parsed.entries] == ["T0", "T1"]
    assert parsed.total == 7


def html_source(url: str, item: str = "div.article") -> str:
    return (
        f"  - name: maghress\n    kind: html\n    url: {url}\n    item: {item}\n"
        "    title: h2\n    date: span.date\n    summary: p.lead\n"
    )


def test_a_link_attribute_css_cannot_select_is_refused() -> None:
    fields = {"name": "m", "url": "https://x.ma/", "kind": "html", "item": "li", "title": "a"}
    with pytest.raises(ValueError, match="expected an attribute name"):
        HtmlSourceConfig.model_validate({**fields, "link_attribute": "data.url"})


def test_a_bad_selector_or_kind_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    text = sources_text(
        tmp_path,
        html_source("https://x.ma/", item="'div.article['")
        + "  - name: other\n    kind: sitemapz\n    url: https://y.ma/\n",
        webhook_subscriber("http://127.0.0.1:9"),
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "monitor.yaml", {"WEBHOOK_SECRET": SECRET})
    assert caught.value.problems == [
        "monitor.yaml:8:11: sources[0].item: not a CSS selector cssselect can read: "
        "Expected ident or '*', got <EOF at 12>",
        "monitor.yaml:13:11: sources[1].kind: unknown source kind "
        f"(expected one of: {', '.join(SOURCE_CONFIGS)})",
    ]


def listing(titles: list[str], day: datetime, layout: str = "div") -> bytes:
    when = day.strftime("%d - %m - %Y")
    return "".join(
        f"<{layout} class='article'><h2><a href='/fr/{n}'>{t}</a></h2>"
        f"<span class='date'>{when}</span></{layout}>"
        for n, t in enumerate(titles)
    ).encode()


@pytest.mark.slow
async def test_the_daemon_polls_a_page_alerts_new_items_and_reports_a_layout_change(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    first = ["Le démarchage téléphonique interdit", "Météo du week-end"]
    feeds.resources["/eco"] = Resource(listing(first, clock.now), "text/html; charset=utf-8")
    config = sources_config(
        tmp_path, html_source(f"{feeds.url}/eco"), webhook_subscriber(receiver.url)
    )
    async with App(config, clock=clock) as app:
        await app.run_once()
        clock.advance(timedelta(hours=1))
        redesigned = listing([*first, "Les centres d'appels et l'IA"], clock.now, "article")
        feeds.resources["/eco"] = Resource(redesigned, "text/html; charset=utf-8")
        await app.run_once()
        state = (await app.store.states(["maghress"]))["maghress"]
        assert (state.last_result, state.error_count) == ("error", 1)
        assert state.last_error is not None
        assert state.last_error.startswith("the page changed: item selector 'div.article'")
        clock.advance(timedelta(hours=1))
        fixed = listing([*first, "Les centres d'appels et l'IA"], clock.now)
        feeds.resources["/eco"] = Resource(fixed, "text/html; charset=utf-8")
        await app.run_once()
    alerted = [[i["title"] for i in json.loads(r.body)["items"]] for r in receiver.accepted()]
    assert alerted == [["Le démarchage téléphonique interdit"], ["Les centres d'appels et l'IA"]]


@pytest.mark.slow
async def test_test_rule_reads_a_configured_pages_url_with_its_selectors(
    tmp_path: Path, feeds: FeedServer
) -> None:
    body = (PAGES / "maghress-listing.html").read_bytes()
    feeds.resources["/fr/economie"] = Resource(body, "text/html; charset=utf-8")
    path = tmp_path / "monitor.yaml"
    url = f"{feeds.url}/fr/economie"
    path.write_text(sources_text(tmp_path, html_source(url), "  - name: t\n    console: true\n"))
    command = ("test-rule", "-c", str(path), url, "--json")
    run = await asyncio.to_thread(monitor, *command, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    found = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(x["title"][:22], x["rules"]) for x in found] == [
        ("Fin du démarchage télé", ["demarchage"]),
        ("Economie numérique : l", ["centres-appels", "ia"]),
        ("Concentrix. Redouane M", ["centres-appels"]),
    ]


@pytest.mark.slow
def test_the_daemon_builds_page_kinds_without_loading_lxml() -> None:
    """lxml (about 4 MB) is for the parse workers: the daemon builds html, sitemap and auto
    kinds for each poll without importing it."""
    text = (
        "sources:\n"
        "  - {name: page, kind: html, url: 'https://x.ma/', item: li, title: a}\n"
        "  - {name: map, kind: sitemap, url: 'https://x.ma/sitemap.xml'}\n"
        "  - {name: home, kind: auto, url: 'https://x.ma/'}\n"
    )
    script = (
        "import sys\n"
        "import monitor.daemon.app\n"
        "from monitor.sources.registry import kind_of\n"
        "from monitor.config.load import parse_config\n"
        f"config = parse_config({text!r}, 'monitor.yaml', {{}})\n"
        "print([kind_of(source, None).name for source in config.sources], 'lxml' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "['html', 'sitemap', 'auto'] False"
