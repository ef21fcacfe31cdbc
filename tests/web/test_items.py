"""``/items`` and ``GET /api/items`` served for real on loopback over a real SQLite store whose
items were written by the poll path (their words indexed as the daemon indexes them): search
folded as matching folds, filters, keyset paging, 400s naming the parameter, the page's marks,
its Atom feed link, and feed text that never runs (an ``<img onerror>`` title, a
``javascript:`` link)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from monitor.core.models import Delivery, Item, Match
from monitor.store import transaction
from monitor.store.feeds import feed_key
from monitor.store.polls import write_polls
from monitor.web.feeds import feed_path
from monitor.web.guard import CSP
from tests.support.databases import BACKENDS, fresh_storage
from tests.support.peers import FakeClock
from tests.support.statements import statements
from tests.support.store import outcome
from tests.support.webapp import USERS, Served, app_config, log_in, serve_app

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NAME, PASSWORD = "analyste", USERS["analyste"]
GOOD = {"Authorization": "Basic " + base64.b64encode(f"{NAME}:{PASSWORD}".encode()).decode()}
XSS = "<img src=x onerror=alert(1)>"
FILLER = 60  # items of source b, older than the others: three pages of 25


def _item(source: str, key: str, title: str, summary: str = "", link: str = "") -> Item:
    return Item(source, key, link or f"https://{source}.ma/{key}", title, summary, "", T0)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    config = app_config(
        [{"name": "a", "url": "https://a.ma/feed", "tags": ["maroc"]},
         {"name": "b", "url": "https://b.ma/feed"}],
    )  # fmt: skip
    config = config.model_copy(
        update={
            "rules": [*config.rules, type(config.rules[0])(name="centres", any=["centre d'appel"])]
        }
    )
    async with serve_app(tmp_path, config, FakeClock(T0)) as running:
        filler = tuple(_item("b", f"f{n}", f"Dépêche numéro {n}") for n in range(FILLER))
        news = (
            _item("a", "k1", "Les centres d’appels recrutent à Casablanca",
                  "Les salaires des centres d’appels augmentent au Maroc."),
            _item("a", "k2", "وزير الاقتصاد يزور المغرب", "الشركات المغربية"),
            _item("a", "k3", XSS, f"{XSS} texte", link="javascript:alert(1)"),
        )  # fmt: skip
        centres = Match("centres", ("centre d'appel",))
        old = replace(outcome("b", filler, at=T0 - timedelta(days=20)), matches={},
                      deliveries=())  # fmt: skip
        new = replace(
            outcome("a", news, at=T0 - timedelta(hours=1)),
            matches={"k1": (centres,)},
            deliveries=(Delivery("s", "k1", ("centres",), {"centres": ("centre d'appel",)}),),
        )
        async with transaction(running.engine) as conn:
            await write_polls(conn, [old, new], [])
        yield running


async def api(served: Served, query: str, auth: dict[str, str] | None = GOOD) -> tuple[int, Any]:
    async with served.client() as client, client.get(f"/api/items?{query}", headers=auth) as got:
        return got.status, await got.json()


async def keys(served: Served, query: str) -> list[str]:
    status, body = await api(served, query)
    assert status == 200, body
    return [item["link"].rsplit("/", 1)[-1].replace("javascript:alert(1)", "k3")
            for item in body["items"]]  # fmt: skip


async def test_the_answer_and_its_values(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)  # a session does as well as Basic
        async with client.get("/api/items?q=centre+d'appel") as answer:
            assert answer.status == 200 and answer.content_type == "application/json"
            assert answer.headers["Content-Security-Policy"] == CSP
            assert answer.headers["Cache-Control"] == "no-store"
            body = await answer.json()
    assert body == {
        "items": [
            {
                "id": body["items"][0]["id"],
                "title": "Les centres d’appels recrutent à Casablanca",
                "link": "https://a.ma/k1",
                "source": "a",
                "published": "2026-11-26T09:00:00Z",
                "seen": "2026-11-26T08:00:00Z",
                "rules": ["centres"],
                "terms": {"centres": ["centre d'appel"]},
                "subscribers": ["s"],
            }
        ],
        "next": None,
    }


# (one server for every query: checked together, every difference reported)
FILTERS = [
    ("q=CENTRE+D%E2%80%99APPEL", ["k1"]),  # case, typographic apostrophe, plural
    ('q="centres d\'appel" recrutent', ["k1"]),
    ("q=centre+-maroc", []),  # maroc is in k1's text
    ("q=casa*", ["k1"]),
    ("q=المغرب", ["k2"]),
    ("q=شركة", ["k2"]),  # الشركات
    ("q=onerror+img", ["k3"]),
    ("q=numero+59", ["f59"]),
    ("rule=centres", ["k1"]),
    ("alerted=true", ["k1"]),
    ("tag=maroc", ["k3", "k2", "k1"]),
    ("tag=maroc&source=b", []),
    ("source=a&q=maroc", ["k1"]),
    ("since=7d&q=-numero+casablanca", ["k1"]),
    ("since=7d", ["k3", "k2", "k1"]),
    ("until=2026-11-10&limit=2", ["f59", "f58"]),
    ("since=2026-11-25&until=2026-11-26", ["k3", "k2", "k1"]),
    ("since=2026-11-27", []),
]


async def test_filters(served: Served) -> None:
    got = [(query, await keys(served, query)) for query, _ in FILTERS]
    assert got == FILTERS


async def test_paging_through_next_has_no_gap_and_no_duplicate(served: Served) -> None:
    seen: list[str] = []
    after, pages = "", 0
    while True:
        status, body = await api(served, f"limit=25&q=depeche{after}")
        assert status == 200, body
        seen += [item["link"].rsplit("/", 1)[1] for item in body["items"]]
        pages += 1
        if body["next"] is None:
            break
        assert not body["next"].isdigit()  # opaque
        after = f"&after={body['next']}"
    assert seen == [f"f{n}" for n in reversed(range(FILLER))] and pages == 3


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ('q="centre', "q: a quote"),
        ("q=-centre", "q: a search needs at least one word"),
        ("q=" + "x" * 301, "q: a search has at most 300"),
        ("q=ce*", "q: 'ce*': a * needs at least 3"),
        ("limit=0", "limit:"),
        ("limit=201", "limit:"),
        ("after=garbage", "after:"),
        ("after=" + base64.urlsafe_b64encode(b"i:-1").decode(), "after:"),
        ("since=yesterday", "since:"),
        ("until=2026-13-01", "until:"),
        ("alerted=maybe", "alerted:"),
        ("rule=" + "r" * 101, "rule:"),
        ("limit=%C2%B2", "limit:"),  # ² is a digit to str.isdigit, not to int
        ("since=999999999d", "since:"),  # too far back for a datetime
        ("since=99999999999999999999d", "since:"),
        ("until=9999-12-31", "until:"),  # its next day is past year 9999
        ("since=0001-01-01", "since:"),
        ("source=a%00b", "source: a name has no NUL"),
        ("rule=r%00", "rule: a name has no NUL"),
        ("q=" + "%E3%8C%80" * 250, "q: a word has at most 200"),  # ㌀: 4 letters folded
    ],
)
async def test_a_parameter_it_cannot_take_is_a_400_naming_it(
    served: Served, query: str, problem: str
) -> None:
    status, body = await api(served, query)
    assert status == 400 and body["error"].startswith(problem), body


@pytest.mark.parametrize("backend", BACKENDS)
async def test_hostile_parameters_are_never_a_server_error(backend: str, tmp_path: Path) -> None:
    """Every parameter typed at the API is answered (PostgreSQL refuses a NUL in a text
    parameter, a word of 2,048 bytes in a tsquery: neither reaches it)."""
    queries = [
        quote(q, safe="") for q in ('"', "NEAR(a b)", "a OR b", "a:b", "(((", "\x00",
                                    "ab\x00cd", "*", "-", "'", "\\", "x" * 5000,
                                    "\u3300" * 250, "a" * 300, "\ufdfa" * 100)
    ]  # fmt: skip
    asked = [f"q={q}" for q in queries] + [
        "source=a%00b", "rule=r%00", "tag=t%00", "limit=%C2%B2", "since=999999999d",
        "until=9999-12-31", "since=0001-01-01", "since=2026-01-01T00:00%2B23:59",
        "after=" + quote(base64.urlsafe_b64encode(b"i:99999999999999999999").decode()),
        "after=" + quote(base64.urlsafe_b64encode(b"i:99999999999999999").decode()),  # > int4
    ]  # fmt: skip
    async with fresh_storage(backend, tmp_path) as storage:
        async with serve_app(tmp_path, app_config(), FakeClock(T0), storage) as running:
            async with transaction(running.engine) as conn:
                news = (_item("a", "k1", "Les centres d’appels", "texte"),)
                await write_polls(conn, [replace(outcome("a", news), matches={})], [])
            statuses = {query: (await api(running, query))[0] for query in asked}
    assert {q: s for q, s in statuses.items() if s not in (200, 400)} == {}
    assert statuses["source=a%00b"] == statuses["limit=%C2%B2"] == 400


async def test_no_credentials_is_401(served: Served) -> None:
    assert (await api(served, "q=centre", auth=None))[0] == 401
    async with served.client() as client:
        async with client.get("/items?q=x", allow_redirects=False) as answer:
            assert answer.status == 303
            assert answer.headers["Location"] == "/login?next=/items?q%3Dx"


async def page(served: Served, query: str, lang: str = "en") -> tuple[int, str]:
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)
        async with client.get(f"/items?lang={lang}&{query}") as answer:
            assert answer.headers["Content-Security-Policy"] == CSP
            return answer.status, await answer.text()


async def test_the_page_marks_the_terms_and_says_what_search_covers(served: Served) -> None:
    status, text = await page(served, "q=centre")
    assert status == 200
    assert (
        '<h2 class="title" dir="auto"><a href="https://a.ma/k1" rel="noreferrer noopener">'
        "Les <mark>centres d’appels</mark> recrutent" in text
    )
    assert "Les salaires des <mark>centres d’appels</mark> augmentent" in text
    assert (
        '<span class="badge"><a href="/items?rule=centres" dir="auto">centres</a>: '
        '<span dir="auto">centre d&#39;appel</span></span>' in text
    )
    assert '<dt>Sent to</dt><dd dir="auto">s</dd>' in text
    assert "and its text for 30d (retention.text), up to 10,000 characters" in text
    assert 'value="centre"' in text and "Atom" not in text
    assert '<a href="/items" aria-current="page">Articles</a>' in text  # (not w.items: a dict's)
    _, french = await page(served, "q=centre", lang="fr")
    assert "son texte pendant 30d" in french and "Envoyé à" in french


async def test_a_rule_in_force_shows_its_feed(served: Served) -> None:
    _, text = await page(served, "rule=centres")
    # (a path alone: this configuration has no http.base_url), with the key `monitor feeds` gives
    path = feed_path("centres", await feed_key(served.engine))
    assert f'<a href="{path}" type="application/atom+xml" dir="auto">{path}</a>' in text
    _, other = await page(served, "rule=gone-rule")
    assert ".atom" not in other and "No article matches." in other


async def test_feed_text_never_runs(served: Served) -> None:
    _, text = await page(served, "q=onerror")
    assert XSS not in text and "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "javascript:" not in text  # the link is not a link: shown as text only
    assert '<h2 class="title" dir="auto">&lt;img' in text


async def test_a_bad_search_is_said_in_words(served: Served) -> None:
    status, text = await page(served, 'q="centre')
    assert status == 400
    assert "Cannot search: q: a quote (&#34;) opens a phrase that is never closed" in text
    assert 'value="&#34;centre"' in text  # kept in the form, escaped


async def test_the_api_costs_a_fixed_number_of_statements(served: Served) -> None:
    counts = []
    with statements(served.engine) as seen:
        for limit in (1, 50):
            seen.clear()
            status, _ = await api(served, f"limit={limit}&q=-zzz+numero&since=60d&until=1d")
            assert status == 200
            counts.append(len(seen))
    assert counts == [5, 5]  # the two ends of the dates, the page, its matches, its deliveries
