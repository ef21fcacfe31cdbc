"""A source's page (``/sources/NAME``) and its JSON served for real on loopback over a real
SQLite store: the last 50 polls, health notices, items newest first by keyset with their rules,
feed text shown as text (never run), a removed source marked, an unknown one a 404, the overview
linking to each page, and the same number of queries whatever the source's history."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import insert

from monitor.core.models import Item, PollFailure
from monitor.store import transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import items
from tests.support.databases import BACKENDS, fresh_storage
from tests.support.peers import FakeClock
from tests.support.statements import statements
from tests.support.store import outcome
from tests.support.webapp import USERS, Served, app_config, log_in, serve_app

CLOCK = FakeClock()
T0 = CLOCK.now
ARABIC = "مصدر.ma"
XSS = "<img src=x onerror=alert(1)>"
SOURCES = [
    {"name": "a", "url": "https://a.ma/feed"},
    {"name": "quiet", "url": "https://quiet.ma/feed"},
    {"name": ARABIC, "url": "https://masdar.ma/feed"},
]


def item(source: str, key: str, title: str, link: str) -> Item:
    return Item(source, key, link, title, "", "", T0)


async def history(served: Served, polls: int, per_poll: int = 1) -> None:
    """``polls`` polls of ``a``, every third one failing, each success with ``per_poll`` items."""
    store = SourceStore(served.engine)
    for n in range(polls):
        at = T0 + timedelta(minutes=n)
        if n % 3 == 2:
            error = f"HTTP 500 <script>alert({n})</script> at https://u:pw@a.ma/?token=t0p"
            await store.record([], [PollFailure("a", at, 500, error, at, seconds=1.5)])
            continue
        found = tuple(
            item("a", f"k{n}-{m}", f"Centres d’appels {n}-{m}", f"https://a.ma/{n}-{m}")
            for m in range(per_poll)
        )
        await store.record([replace(outcome("a", found, at=at, subs=()), seconds=0.25)])


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serve_app(tmp_path, app_config(SOURCES), CLOCK) as running:
        await SourceStore(running.engine).sync(running.holder[0], T0 - timedelta(days=1))
        yield running


async def page(
    served: Served, path: str, lang: str = "en", signed_in: bool = True
) -> tuple[int, str]:
    async with served.client() as client:
        if signed_in:
            await log_in(client, "analyste", USERS["analyste"])
        headers = {"Accept-Language": lang}
        async with client.get(path, headers=headers, allow_redirects=False) as answer:
            return answer.status, await answer.text()


def rows(text: str) -> list[str]:
    return re.findall(r'<tr class="poll-[\w-]+">(.*?)</tr>', text, flags=re.S)


async def test_the_last_fifty_polls_newest_first(served: Served) -> None:
    await history(served, 60)
    status, text = await page(served, "/sources/a")
    assert status == 200 and "<h1>a</h1>" in text
    polls = rows(text)
    assert len(polls) == 50
    # newest first: poll 59 failed, 58 read an item; times in the configured zone
    failed, read = polls[0], polls[1]
    assert '<time datetime="2026-11-26T09:59:00+00:00">2026-11-26 10:59 +01</time>' in failed
    assert "failed (500)" in failed and "<td>1.50</td>" in failed and "<td>0</td>" in failed
    assert "&lt;script&gt;alert(59)&lt;/script&gt;" in failed and "<script>" not in text
    assert "read (200)" in read and "<td>0.25</td>" in read and "<td>1</td>" in read
    assert "pw@" not in text and "t0p" not in text  # URLs in errors are redacted
    assert 'datetime="2026-11-26T09:10:00+00:00"' in polls[-1]  # poll 10: the 50th newest


async def test_items_newest_first_by_keyset_with_their_rules(served: Served) -> None:
    await history(served, 40, per_poll=3)  # 27 successes: 81 items
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        seen: list[str] = []
        url: str | None = "/sources/a"
        while url is not None:
            async with client.get(url, headers={"Accept-Language": "en"}) as answer:
                text = await answer.text()
            seen += re.findall(r'<a href="https://a\.ma/[^"]+" dir="auto"[^>]*>([^<]+)</a>', text)
            more = re.findall(r'href="([^"]+)#items" rel="next"', text)
            url = more[0] if more else None
        assert "First page" in text
    expected = [f"Centres d’appels {n}-{m}" for n in range(39, -1, -1) if n % 3 != 2
                for m in range(2, -1, -1)]  # fmt: skip
    assert seen == expected and len(seen) == 81
    assert '<span class="badge rule">ia</span>' in text  # every item matched ia


async def test_feed_text_never_runs(served: Served) -> None:
    hostile = [
        item("a", "x1", XSS, "javascript:alert(1)"),
        item("a", "x2", "<a href='javascript:alert(2)'>clic</a>", " JavaScript:alert(3)"),
        item("a", "x3", "data", "data:text/html,<script>alert(4)</script>"),
        item("a", "x4", "relative", "/here"),
        item("a", "x5", "fine", 'https://a.ma/fine?x=1&y="2"'),
    ]
    await SourceStore(served.engine).record([outcome("a", tuple(hostile), subs=())])
    status, text = await page(served, "/sources/a")
    assert status == 200
    assert "<img" not in text and html.escape(XSS, quote=False) in text
    assert "javascript:" not in text.lower().replace("&#39;javascript:alert(2)&#39;", "")
    assert "data:text" not in text and 'href="/here"' not in text
    assert '<a href="https://a.ma/fine?x=1&amp;y=&#34;2&#34;" dir="auto"' in text
    assert re.search(r'<span dir="auto">&lt;img src=x onerror=alert\(1\)&gt;</span>', text)


async def test_health_notices_in_the_pages_language(served: Served) -> None:
    def notice(key: str, title: str, minutes: int) -> dict[str, Any]:
        at = T0 + timedelta(minutes=minutes)
        return {"source": "a", "key": key, "article": f"a\x1f{key}", "link": "",
                "title": title, "summary": "", "seen_at": at}  # fmt: skip

    failing, ok = "health:failing:2026-11-26T09:30:00+00:00", "health:ok:2026-11-26T10:00:00+00:00"
    async with transaction(served.engine) as conn:
        await conn.execute(insert(items), [
            notice(f"{failing}:fr", "« a » en échec", 30),
            notice(f"{failing}:en", "a is failing", 30),
            notice(f"{ok}:fr", "« a » fonctionne de nouveau", 60),  # only in French
        ])  # fmt: skip
    _, english = await page(served, "/sources/a", "en")
    notices = re.findall(r'<ul class="notices">(.*?)</ul>', english, flags=re.S)[0]
    assert re.findall(r'<span dir="auto">([^<]+)</span>', notices) == [
        "« a » fonctionne de nouveau",  # (no English title was stored: the French one)
        "a is failing",
    ]
    _, french = await page(served, "/sources/a", "fr")
    assert "« a » en échec" in french and "a is failing" not in french
    assert "Alertes de santé" in french and "Dernières lectures" in french
    assert "No article." in english  # the notices are not items


async def test_a_removed_source_still_shows_marked(served: Served) -> None:
    await history(served, 3)
    served.holder[0] = app_config(SOURCES[1:])
    await SourceStore(served.engine).sync(served.holder[0], T0 + timedelta(hours=1))
    status, text = await page(served, "/sources/a")
    assert status == 200 and "removed from the configuration since" in text
    assert len(rows(text)) == 3
    status, overview = await page(served, "/")
    assert 'href="/sources/a"' not in overview


async def test_unknown_names_are_a_404_and_names_are_quoted(served: Served) -> None:
    status, text = await page(served, "/sources/nobody")
    assert status == 404 and "Page not found." in text
    status, text = await page(served, "/sources/nobody", "fr")
    assert status == 404 and "Page introuvable." in text
    status, _ = await page(served, "/sources/a", signed_in=False)
    assert status == 303
    status, overview = await page(served, "/")
    link = f'href="/sources/{quote(ARABIC, safe="")}"'
    assert link in overview and 'href="/sources/quiet"' in overview
    status, text = await page(served, link[6:-1])
    assert status == 200 and f"<h1>{ARABIC}</h1>" in text and "No poll recorded." in text


async def test_the_json(served: Served) -> None:
    await history(served, 4, per_poll=2)
    async with served.client() as client:
        async with client.get("/api/sources/a") as answer:
            assert answer.status == 401
        await log_in(client, "analyste", USERS["analyste"])
        async with client.get("/api/sources/nobody") as answer:
            assert answer.status == 404
        async with client.get("/api/sources/a?after=x1") as answer:
            assert answer.status == 400
            assert await answer.json() == {"error": "after: not a cursor this API gave"}
        async with client.get("/api/sources/a") as answer:
            body = await answer.json()
    assert (body["name"], body["kind"], body["state"], body["removed"]) == ("a", "feed", "ok", None)
    assert [p["result"] for p in body["polls"]] == ["ok", "error", "ok", "ok"]
    assert body["polls"][1]["duration_ms"] == 1500 and "pw@" not in body["polls"][1]["error"]
    assert body["polls"][0]["at"] == "2026-11-26T09:03:00Z"
    titles = [i["title"] for i in body["items"]]
    assert titles[:2] == ["Centres d’appels 3-1", "Centres d’appels 3-0"]
    assert body["items"][0]["rules"] == ["ia"] and body["next"] is None


@pytest.mark.parametrize("backend", BACKENDS)
async def test_hostile_names_and_cursors_are_a_404_or_a_400(backend: str, tmp_path: Path) -> None:
    """``after=²`` is a digit to str.isdigit, not to int; PostgreSQL refuses a NUL in a name."""
    async with fresh_storage(backend, tmp_path) as storage:
        async with serve_app(tmp_path, app_config(SOURCES), CLOCK, storage) as running:
            await SourceStore(running.engine).sync(running.holder[0], T0)
            answers = {}
            async with running.client() as client:
                await log_in(client, "analyste", USERS["analyste"])
                for path in (
                    "/api/sources/a%00",
                    "/sources/a%00",
                    "/api/sources/a?after=%C2%B2",
                    "/sources/a?after=%C2%B2",
                    "/api/sources/a?after=99999999999999999",
                ):
                    async with client.get(path) as answer:
                        answers[path] = answer.status  # fmt: skip
    assert answers == {
        "/api/sources/a%00": 404, "/sources/a%00": 404, "/api/sources/a?after=%C2%B2": 400,
        "/sources/a?after=%C2%B2": 200,  # (the page: the first page)
        "/api/sources/a?after=99999999999999999": 200,
    }  # fmt: skip


async def test_the_same_queries_whatever_the_history(served: Served, tmp_path: Path) -> None:
    async def queries(running: Served, path: str) -> int:
        async with running.client() as client:
            await log_in(client, "analyste", USERS["analyste"])
            with statements(running.engine) as seen:
                async with client.get(path) as answer:
                    assert answer.status == 200
        return len(seen)

    few = tmp_path / "few"
    few.mkdir()
    async with serve_app(few, app_config(SOURCES), CLOCK) as small:
        await SourceStore(small.engine).sync(small.holder[0], T0)
        await history(small, 2)
        assert await queries(small, "/sources/a") == 5
    many = [{"name": f"s{n:03d}", "url": f"https://s{n:03d}.ma/f"} for n in range(150)]
    served.holder[0] = app_config(SOURCES + many)
    await SourceStore(served.engine).sync(served.holder[0], T0)
    await history(served, 120, per_poll=5)
    for path in ("/sources/a", "/sources/a?after=300"):
        assert await queries(served, path) == 5, path
