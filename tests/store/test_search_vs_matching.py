"""Search finds what matching matches (issue 23: "fold exactly as in matching"): every query of
tests/data/search-vs-matching.yaml over every text of it, searched in the store (SQLite and
PostgreSQL) and matched by a rule of the same term; every difference is reported at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.rules import RuleConfig
from monitor.core.models import Item
from monitor.rules.matcher import Matcher
from monitor.store import open_engine, transaction
from monitor.store.items import ItemFilter, item_page
from monitor.store.polls import write_polls
from monitor.store.search import parse_query
from tests.support.databases import BACKENDS, fresh_storage
from tests.support.store import T0, outcome

CASES = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "data" / "search-vs-matching.yaml").read_text(
        encoding="utf-8"
    )
)
TEXTS: list[str] = CASES["texts"]
QUERIES: list[str] = CASES["queries"]


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with fresh_storage(request.param, tmp_path) as storage:
        engine = await open_engine(storage)
        try:
            found = tuple(
                Item("a", f"k{n}", f"https://a.ma/{n}", text, "", "", T0)
                for n, text in enumerate(TEXTS)
            )
            async with transaction(engine) as conn:
                await write_polls(conn, [replace(outcome("a", found), matches={})], [])
            yield engine
        finally:
            await engine.dispose()


def matched(query: str) -> list[str]:
    rule = RuleConfig.model_validate({"name": "r", "any": [query.strip('"')]})
    matcher = Matcher([rule], scoped=False)
    return sorted(text for text in TEXTS if matcher.match_fields({"title": text}))


async def test_search_finds_what_a_rule_of_the_same_term_matches(store: AsyncEngine) -> None:
    assert len(TEXTS) > 20 and len(QUERIES) > 40
    differ = []
    for query in QUERIES:
        rows, _ = await item_page(store, ItemFilter(query=parse_query(query)), None, 100)
        found = sorted(TEXTS[int(row.link.rsplit("/", 1)[1])] for row in rows)
        if found != matched(query):
            differ.append((query, "search:", found, "matching:", matched(query)))
    assert differ == []


def test_the_cases_are_mostly_matches() -> None:
    # a query that matches nothing checks only that search finds nothing either (email: a
    # hyphen joins e-mail as two words, never one): a few such, most queries find something
    assert len([query for query in QUERIES if not matched(query)]) <= len(QUERIES) // 8
