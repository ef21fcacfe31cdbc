"""``monitor test-rule NAME``: a configured source read as the daemon reads it (its kind, its
selectors), with the rules' source and tag scopes applied; a URL or a file as before, scopes
ignored; an unknown name said so, with the closest one (DESIGN §3.1: exit 1)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.cli import monitor
from tests.support.peers import FeedServer, Resource, rss

WHEN = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
PAGE = """<!DOCTYPE html><html><head><title>Économie</title></head><body>
<nav><a href="/">Accueil : l'IA partout</a></nav>
<div class="article"><h2><a href="/a/1">Le démarchage téléphonique encadré</a></h2>
  <span class="date">26/11/2026</span><p class="lead">Les centres d'appels et l'IA.</p></div>
<div class="article"><h2><a href="/a/2">Météo du week-end</a></h2>
  <span class="date">25/11/2026</span><p class="lead">Du soleil.</p></div>
</body></html>"""
HOME = (
    '<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml" '
    'href="/feed"></head><body><p>IA, démarchage : la une</p></body></html>'
)


@pytest.fixture
async def site() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    feed = rss(
        [
            {"guid": "1", "title": "Démarchage : ce qui change", "link": "https://x.ma/1",
             "published": WHEN},
            {"guid": "2", "title": "Les centres d’appels et l’IA", "link": "https://x.ma/2",
             "published": WHEN},
            {"guid": "3", "title": "Via Internet", "link": "https://x.ma/3", "published": WHEN},
        ]
    )  # fmt: skip
    server.resources["/feed"] = Resource(feed)
    server.resources["/copy-of-the-feed"] = Resource(feed)  # no source has this URL
    server.resources["/economie"] = Resource(PAGE.encode(), "text/html; charset=utf-8")
    server.resources["/home"] = Resource(HOME.encode(), "text/html; charset=utf-8")
    yield server
    await server.close()


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
storage: sqlite:///{tmp_path}/data/monitor.db
network:
  allow: [127.0.0.0/8]
  timeout: 5s
sources:
  - name: fil
    url: {url}/feed
    tags: [maroc]
  - name: economie
    kind: html
    url: {url}/economie
    item: div.article
    title: h2
    date: span.date
    summary: p.lead
  - name: accueil
    kind: auto
    url: {url}/home
rules:
  - name: demarchage
    any: ["démarchage"]
  - name: ia-pages
    any: ["IA"]
    sources: [economie]
  - name: centres-maroc
    any: ["centres d'appels"]
    tags: [maroc]
subscribers:
  - {{name: t, console: true}}
""")
    return path


async def try_rules(tmp_path: Path, *args: str) -> tuple[int, list[dict[str, object]], str]:
    result = await asyncio.to_thread(monitor, "test-rule", *args, cwd=tmp_path)
    lines = [json.loads(line) for line in result.stdout.splitlines()] if "--json" in args else []
    return result.returncode, lines, result.stderr


@pytest.mark.slow
async def test_a_configured_feed_by_name_with_the_scopes_of_its_rules(
    tmp_path: Path, site: FeedServer
) -> None:
    path = str(write_config(tmp_path, site.url))
    code, found, err = await try_rules(tmp_path, "fil", "-c", path, "--json")
    assert code == 0, err
    # ia-pages is for the source economie only; centres-maroc for the tag fil carries
    assert [(x["title"], x["rules"]) for x in found] == [
        ("Démarchage : ce qui change", ["demarchage"]),
        ("Les centres d’appels et l’IA", ["centres-maroc"]),
    ]
    code, found, err = await try_rules(tmp_path, "fil", "-c", path)
    assert code == 0 and err.splitlines()[-1] == "2 of 3 items of fil match"

    # the same feed at a URL no source has: the scopes are ignored, as before
    copy = f"{site.url}/copy-of-the-feed"
    code, found, err = await try_rules(tmp_path, copy, "-c", path, "--json")
    assert code == 0, err
    assert [x["rules"] for x in found] == [["demarchage"], ["ia-pages", "centres-maroc"]]
    # the URL of a configured source is that source
    code, found, err = await try_rules(tmp_path, f"{site.url}/feed", "-c", path, "--json")
    assert [x["rules"] for x in found] == [["demarchage"], ["centres-maroc"]]
    assert not (tmp_path / "data").exists()  # nothing read from or written to a store


@pytest.mark.slow
async def test_an_html_source_by_its_selectors_and_an_auto_source_by_the_feed_it_announces(
    tmp_path: Path, site: FeedServer
) -> None:
    path = str(write_config(tmp_path, site.url))
    code, found, err = await try_rules(tmp_path, "economie", "-c", path, "--json")
    assert code == 0, err
    [item] = found  # the page's navigation is not an item: only what the selectors pick
    assert item["title"] == "Le démarchage téléphonique encadré"
    assert item["link"] == f"{site.url}/a/1"
    assert item["rules"] == ["demarchage", "ia-pages"]  # ia-pages: its own source
    assert item["published"] == "2026-11-26T00:00:00Z"

    code, found, err = await try_rules(tmp_path, "accueil", "-c", path, "--json")
    assert code == 0, err
    assert [x["title"] for x in found] == ["Démarchage : ce qui change"]  # read from /feed
    assert site.hits["/home"] == 1 and site.hits["/feed"] >= 1


@pytest.mark.slow
async def test_an_unknown_name_says_so_with_the_closest_source(
    tmp_path: Path, site: FeedServer
) -> None:
    path = str(write_config(tmp_path, site.url))
    code, _, err = await try_rules(tmp_path, "economy", "-c", path)
    assert code == 1
    assert err == (
        "monitor: cannot read economy: no such file, and no source has that name "
        "(did you mean economie?)\n"
    )
    missing = str(tmp_path / "nope.xml")
    code, _, err = await try_rules(tmp_path, missing, "-c", path)
    assert code == 1
    assert err == f"monitor: cannot read {missing}: no such file, and no source has that name\n"
    site.resources["/economie"] = Resource(b"", status=503)
    code, _, err = await try_rules(tmp_path, "economie", "-c", path)
    assert code == 1
    assert err == "monitor: cannot read economie: 127.0.0.1 answered 503 Service Unavailable\n"


@pytest.mark.slow
async def test_in_store_mode_a_stored_source_by_name_with_its_stored_tags(
    tmp_path: Path, site: FeedServer
) -> None:
    text = write_config(tmp_path, site.url).read_text(encoding="utf-8")
    rules = text[text.index("rules:") :]
    (tmp_path / "monitor.yaml").write_text(
        f"storage: sqlite:///{tmp_path}/monitor.db\nnetwork:\n  allow: [127.0.0.0/8]\n"
        "sources_from: store\nsources_file: feeds.csv\n" + rules,
        encoding="utf-8",
    )
    (tmp_path / "feeds.csv").write_text(
        f"name,url,tags\nfil,{site.url}/feed,maroc\n", encoding="utf-8"
    )
    loaded = await asyncio.to_thread(monitor, "sources", "load", "-c", "monitor.yaml", cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    code, found, err = await try_rules(tmp_path, "fil", "-c", "monitor.yaml", "--json")
    assert code == 0, err
    assert [(x["title"], x["rules"]) for x in found] == [
        ("Démarchage : ce qui change", ["demarchage"]),
        ("Les centres d’appels et l’IA", ["centres-maroc"]),  # by the tag the store holds
    ]
