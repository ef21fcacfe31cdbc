"""Search over the stored items (monitor.store.search, monitor.store.items) on SQLite and
PostgreSQL: items written by the poll path, found by queries folded and keyed as matching does
it; a prune takes the text's words out and leaves the title's; a page costs a fixed number of
statements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.models import Delivery, Item, Match
from monitor.store import items as store_items
from monitor.store import open_engine, transaction
from monitor.store.engines import engine_url, migration_engine
from monitor.store.items import MAX_STATEMENTS, ItemFilter, ItemRow, item_page
from monitor.store.polls import write_polls
from monitor.store.retention import prune_text
from monitor.store.search import (
    MAX_INDEXED,
    QueryError,
    fts5_query,
    indexed_texts,
    parse_query,
    tsquery,
)
from monitor.store.tables import items
from tests.support.databases import BACKENDS, fresh_storage
from tests.support.statements import statements
from tests.support.store import T0, at_revision, outcome

TEXTS = {
    "k1": ("Les centres d’appels recrutent", "Salaires en hausse au Maroc."),
    "k2": ("L'IA au service des banques", "Un centre. Appel aux candidats."),
    "k3": ("وزير الاقتصاد يزور المغرب", "الشركات المغربية"),
    "k4": ("Call-center wages rise", "Companies hire in Casablanca."),
    "k5": ("<img src=x onerror=alert(1)>", 'NEAR OR : ( ) * " text'),
}


def _item(source: str, key: str) -> Item:
    title, summary = TEXTS[key]
    return Item(source, key, f"https://{source}.ma/{key}", title, summary, "", T0)


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with fresh_storage(request.param, tmp_path) as storage:
        engine = await open_engine(storage)
        try:
            found = tuple(_item("a", key) for key in ("k1", "k2", "k3"))
            later = tuple(_item("b", key) for key in ("k4", "k5"))
            first = replace(
                outcome("a", found),
                matches={"k1": (Match("centres", ("centre d'appel",)),)},
                deliveries=(Delivery("s1", "k1", ("centres",), {"centres": ("centre d'appel",)}),),
            )
            second = replace(outcome("b", later, at=T0 + timedelta(days=3)), matches={},
                             deliveries=())  # fmt: skip
            async with transaction(engine) as conn:
                await write_polls(conn, [first, second], [])
            yield engine
        finally:
            await engine.dispose()


async def keys(engine: AsyncEngine, q: str = "", **filters: Any) -> list[str]:
    rows, _ = await item_page(engine, ItemFilter(query=parse_query(q), **filters), None, 50)
    return [row.link.rsplit("/", 1)[1] for row in rows]


# (one store for every query: checked together, every difference reported)
FINDS = [
    ("centre d'appel", ["k1"]),  # plural, elision, typographic apostrophe
    ("CENTRES D’APPEL", ["k1"]),
    ('"centre d\'appel"', ["k1"]),  # a phrase
    ('"centre appel"', []),  # "centre. Appel": a full stop breaks the phrase
    ("centre appel", ["k2", "k1"]),  # words anywhere: newest first (by id)
    ("IA", ["k2"]),  # l'IA
    ("ia banque", ["k2"]),
    ("maroc", ["k1"]),  # in the text only
    ("centre -maroc", ["k4", "k2"]),  # centre: center too
    ('centre -"d\'appel"', ["k4", "k2"]),
    ("recru*", ["k1"]),  # a prefix
    ("centre*", ["k4", "k2", "k1"]),  # and its key spelling: centres, center
    ("call center", ["k4"]),  # call-center
    ('"call center"', ["k4"]),
    ("company", ["k4"]),  # Companies: the English plural's second key
    ("المغرب", ["k3"]),  # Arabic, folded and keyed as matching does
    ("مغربيه", ["k3"]),  # المغربية: article and ة folded
    ("شركة", ["k3"]),  # الشركات: a regular plural with its article
    ("اقتصاد*", ["k3"]),
    ("NEAR", ["k5"]),  # the index's own syntax is a word like any other
    ("NEAR(centre appel)", []),
    ("OR text", ["k5"]),
    ("img onerror", ["k5"]),
    ("src: (text)", ["k5"]),
    ("src:x", []),  # a phrase: "src=x" (= breaks it, as in matching)
    ("nothing", []),
]


async def test_a_query_finds_what_matching_would(store: AsyncEngine) -> None:
    got = [(q, await keys(store, q)) for q, _ in FINDS]
    assert got == FINDS


@pytest.mark.parametrize(
    ("q", "problem"),
    [
        ('"centre', "never closed"),
        ("-centre", "not excluded"),
        ("-centre -appel", "not excluded"),
        ("ce*", "at least 3 letters"),
        ("cen*tre", "may only end a word"),
        ('"centre*"', "may only end a word"),
        ("x" * 301, "at most 300 characters"),
        (" ".join(f"w{n}" for n in range(13)), "at most 12"),
        ('" " ( ) :', "no word"),
        ("x" * 201, "at most 200 characters"),  # never indexed (search.MAX_WORD)
        ("\u3300" * 51, "at most 200 characters"),  # 51 characters, each folded to 4
        ("\u3300" * 51 + "*", "at most 200 characters"),
    ],
)
def test_a_query_it_cannot_search_is_refused_in_words(q: str, problem: str) -> None:
    with pytest.raises(QueryError, match=problem):
        parse_query(q)


def test_the_index_syntax_is_built_only_from_quoted_keys() -> None:
    query = parse_query('NEAR(a b) OR "x:y" -col:z fin*')
    assert query is not None
    assert fts5_query(query) == (
        '("near a") AND ("b") AND ("or") AND ("x y") AND ("fin"*) NOT ("col z")'
    )
    assert tsquery(query) == (
        "(('near') <-> ('a')) & (('b')) & (('or')) & (('x') <-> ('y')) & ('fin':*) "
        "& !(('col') <-> ('z'))"
    )


async def test_filters_narrow_the_page(store: AsyncEngine) -> None:
    assert await keys(store) == ["k5", "k4", "k3", "k2", "k1"]
    assert await keys(store, sources=["a"]) == ["k3", "k2", "k1"]
    assert await keys(store, "centre", sources=["b"]) == ["k4"]
    assert await keys(store, sources=[]) == []
    assert await keys(store, rule="centres") == ["k1"]
    assert await keys(store, rule="other") == []
    assert await keys(store, alerted=True) == ["k1"]
    assert await keys(store, since=T0 + timedelta(days=1)) == ["k5", "k4"]
    assert await keys(store, until=T0 + timedelta(days=1)) == ["k3", "k2", "k1"]
    assert await keys(store, "centre", until=T0 + timedelta(days=1)) == ["k2", "k1"]
    assert await keys(store, since=T0 + timedelta(days=9)) == []


async def test_a_tag_of_many_sources_is_one_parameter(store: AsyncEngine) -> None:
    many = [f"s{n}" for n in range(40_000)] + ["b"]  # past SQLite's 32,766 parameters
    assert await keys(store, "centre", sources=many) == ["k4"]


async def test_a_page_says_its_rules_and_subscribers_and_pages_by_id(store: AsyncEngine) -> None:
    rows, cursor = await item_page(store, ItemFilter(), None, 2)
    assert [r.title for r in rows] == [TEXTS["k5"][0], TEXTS["k4"][0]] and cursor == rows[-1].id
    rows, cursor = await item_page(store, ItemFilter(), cursor, 2)
    assert [r.title for r in rows] == [TEXTS["k3"][0], TEXTS["k2"][0]]
    rows, cursor = await item_page(store, ItemFilter(), cursor, 2)
    assert cursor is None
    assert rows == [
        ItemRow(
            rows[0].id, "a", TEXTS["k1"][0], "https://a.ma/k1", TEXTS["k1"][1], T0, T0,
            {"centres": ["centre d'appel"]}, ["s1"],
        )
    ]  # fmt: skip


async def test_a_prune_keeps_the_title_words_and_drops_the_text_words(store: AsyncEngine) -> None:
    assert await keys(store, "candidats") == ["k2"]
    # k1's text is kept: a digest still owes it (monitor.store.retention)
    assert await prune_text(store, T0 + timedelta(days=2), timedelta(days=1)) == 2
    assert await keys(store, "candidats") == []  # in k2's text: gone
    assert await keys(store, "banques") == ["k2"]  # in its title: kept
    assert await keys(store, "maroc") == ["k1"]  # owed: kept
    assert await keys(store, "companies") == ["k4"]  # k4 is newer: its text is kept


async def test_a_deleted_item_leaves_the_index(store: AsyncEngine) -> None:
    async with transaction(store) as conn:
        await conn.execute(delete(items).where(items.c.key == "k4"))
    assert await keys(store, "call center") == []
    assert await keys(store, "centre") == ["k2", "k1"]


async def test_a_page_is_a_fixed_number_of_statements(store: AsyncEngine) -> None:
    counts = []
    with statements(store) as seen:
        for size, q in ((1, "centre* -xyz"), (5, "centre* -xyz"), (5, "nothing -xyz")):
            seen.clear()
            filters = ItemFilter(
                query=parse_query(q), sources=["a", "b"], alerted=False,
                since=T0 - timedelta(days=1), until=T0 + timedelta(days=9),
            )  # fmt: skip
            await item_page(store, filters, None, size)
            counts.append(len(seen))
    if store.dialect.name == "sqlite":
        # the two ends of the date range, the page, its matches, its deliveries (none found:
        # neither of the last two)
        assert counts == [5, 5, 3]
    else:  # the search widens step by step until it has a page (monitor.store.items)
        assert counts[0] == counts[1] <= MAX_STATEMENTS and counts[2] < counts[1], counts


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_date_range_keeps_the_items_of_overlapping_polls(
    backend: str, tmp_path: Path
) -> None:
    """Ids are given when a poll is written, seen_at is when it started: a slow poll started
    before a fast one is written after it. Each item seen in the range is found."""
    slow_start, fast_start = T0 + timedelta(seconds=5), T0 + timedelta(seconds=30)
    before = (Item("c", "k0", "https://c.ma/k0", "seen before", "", "", T0 - timedelta(hours=1)),)
    fast = (Item("a", "k1", "https://a.ma/k1", "fast poll, started later", "", "", T0),)
    slow = (Item("b", "k2", "https://b.ma/k2", "slow poll, started earlier", "", "", T0),)
    after = (Item("c", "k3", "https://c.ma/k3", "seen after", "", "", T0),)
    async with fresh_storage(backend, tmp_path) as storage:
        engine = await open_engine(storage)
        try:
            for source, found, at in (
                ("c", before, T0 - timedelta(hours=1)), ("a", fast, fast_start),
                ("b", slow, slow_start), ("c", after, T0 + timedelta(hours=1)),
            ):  # fmt: skip
                async with transaction(engine) as conn:
                    await write_polls(
                        conn, [replace(outcome(source, found, at=at), matches={})], []
                    )
            assert await keys(engine, since=T0, until=T0 + timedelta(minutes=1)) == ["k2", "k1"]
            assert await keys(engine, since=slow_start + timedelta(seconds=1)) == ["k3", "k1"]
            assert await keys(engine, until=fast_start) == ["k2", "k0"]
            assert await keys(engine, "poll", until=fast_start) == ["k2"]
        finally:
            await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_word_too_long_to_index_is_left_out_and_the_poll_written(
    backend: str, tmp_path: Path
) -> None:
    """PostgreSQL refuses a tsvector word of 2,048 bytes: the poll that found one failed
    whole, every time. Such a word is left out, a break in its place."""
    long = "x" * 2100
    found = (
        Item("a", "k1", "https://a.ma/k1", "Titre normal", f"avant {long} apres", "", T0),
        Item("a", "k2", "https://a.ma/k2", "Autre", "", "\u3300" * 600, T0),  # folded: 2,400
    )
    async with fresh_storage(backend, tmp_path) as storage:
        engine = await open_engine(storage)
        try:
            async with transaction(engine) as conn:
                await write_polls(conn, [replace(outcome("a", found), deliveries=())], [])
            assert await keys(engine, "avant apres") == ["k1"]
            assert await keys(engine, '"avant apres"') == []  # not one phrase
            assert await keys(engine, "autre") == ["k2"]
        finally:
            await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_search_widening_step_by_step_finds_the_same_page(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL looks among the newest ids first, then wider (here 10, then 100, then all
    of 300): each step's page is the page read at once (SQLite reads it at once)."""
    monkeypatch.setattr(store_items, "_WINDOWS", ((10, False), (100, True), (None, True)))

    def words(n: int) -> str:
        return " ".join(["commun", *(["moyen"] if 50 <= n < 120 else []), *(["rare"] * (n == 5))])

    found = tuple(Item("a", f"n{n}", f"https://a.ma/{n}", words(n), "", "", T0) for n in range(300))
    async with fresh_storage(backend, tmp_path) as storage:
        engine = await open_engine(storage)
        try:
            async with transaction(engine) as conn:
                await write_polls(conn, [replace(outcome("a", found), deliveries=())], [])

            async def page(q: str, limit: int, after: int | None = None) -> list[int]:
                rows, _ = await item_page(engine, ItemFilter(query=parse_query(q)), after, limit)
                return [int(row.link.rsplit("/", 1)[1]) for row in rows]

            assert await page("commun", 5) == [299, 298, 297, 296, 295]  # the first step
            assert await page("moyen", 3) == [119, 118, 117]  # the second
            assert await page("moyen", 80) == list(reversed(range(50, 120)))  # the last
            assert await page("rare", 50) == [5]  # the last
            assert await page("commun -moyen", 3, after=121) == [49, 48, 47]
        finally:
            await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_upgrade_indexes_the_items_already_stored(backend: str, tmp_path: Path) -> None:
    async with fresh_storage(backend, tmp_path) as storage:
        await at_revision(storage, "0011")
        old = migration_engine(engine_url(storage))
        try:
            async with old.begin() as conn:  # (an item as version 0011 wrote it: no words)
                await conn.exec_driver_sql(
                    "INSERT INTO items (source, key, article, link, title, summary, content, "
                    "seen_at) VALUES ('a', 'k1', 'x', 'https://a.ma/k1', 'Centres d’appels', "
                    "'au Maroc " + "x" * 2100 + " fin', NULL, '2026-11-26 09:00:00')"
                )
        finally:
            await old.dispose()
        engine = await open_engine(storage, upgrade=True)
        try:
            assert await keys(engine, '"centre d\'appel" maroc') == ["k1"]
            assert await keys(engine, "appels* fin") == ["k1"]  # as written; a long word left
            async with transaction(engine) as conn:  # and the triggers keep it from now on
                await conn.execute(update(items).values(text_words=""))
            assert await keys(engine, "maroc") == [] and await keys(engine, "centre") == ["k1"]
        finally:
            await engine.dispose()


def test_a_summary_is_left_out_only_when_the_indexed_content_holds_it_whole() -> None:
    start = "Le premier paragraphe, repris en tête du contenu. " * 5  # 255 characters
    content = start + "Le reste de l'article."
    assert indexed_texts(start, content) == ("", content)  # (a feed's usual repetition)
    assert indexed_texts(start + "Un mot de plus.", content)[0] == start + "Un mot de plus."
    far = "x " * MAX_INDEXED + start  # in the content, past what is indexed of it
    assert indexed_texts(start, far)[0] == start
