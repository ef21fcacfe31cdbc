"""The web app in store mode (``sources_from: store``), on both backends: the configuration
holds no source, so the overview's and the items' tag filters, the tag lists and each source's
kind are read from the store (the index of the stored tags, the page's definitions)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.web.items import items_json, items_page
from monitor.web.overview import overview
from monitor.web.source_page import source_page
from tests.support.stored import seed_tagged

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CONFIG = Config(sources_from="store")


async def test_the_tag_filters_and_kinds_come_from_the_store(engine: AsyncEngine) -> None:
    await seed_tagged(engine, NOW, more=2)
    everything = await overview(engine, CONFIG, {}, NOW)
    assert [(row.name, row.kind) for row in everything["rows"]] == [
        ("a", "feed"), ("b", "feed"), ("c0", "feed"), ("c1", "feed"),
    ]  # fmt: skip
    assert everything["tags"] == ["maroc"]
    tagged = await overview(engine, CONFIG, {"tag": "maroc"}, NOW)
    assert [row.name for row in tagged["rows"]] == ["a"]
    assert (await overview(engine, CONFIG, {"tag": "nope"}, NOW))["rows"] == []

    found = await items_json(engine, CONFIG, {"tag": "maroc"}, NOW)
    assert [item["source"] for item in found["items"]] == ["a"]
    found = await items_json(engine, CONFIG, {"tag": "maroc", "source": "b"}, NOW)
    assert found["items"] == []
    page = await items_page(engine, CONFIG, {"tag": "maroc"}, NOW)
    assert page["tags"] == ["maroc"] and [row.source for row in page["rows"]] == ["a"]

    shown = await source_page(engine, CONFIG, "a", {}, "fr")
    assert shown is not None and shown["kind"] == "feed"
