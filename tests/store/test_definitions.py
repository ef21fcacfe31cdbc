"""Source definitions in the store (``sources_from: store``, issue 25), on both backends: a load
adds, changes, restarts and removes as SourceStore.sync does for a configuration, a second load
of the same sources changes nothing, a restarted source starts afresh, and a replica's read of
the claimed names' definitions is one bounded statement, never a read of the whole table."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.load import checked_sources_file, sources_file_definitions
from monitor.config.sources import SourceConfig
from monitor.config.stored import definition, from_definition
from monitor.store import open_engine, reading, transaction
from monitor.store.catalog import StoredSources, Unexpanded
from monitor.store.definitions import BATCH, Definitions
from monitor.store.engines import engine_url, migration_engine
from monitor.store.sources import SourceStore
from monitor.store.tables import sources as sources_table
from tests.support.statements import statements
from tests.support.store import at_revision, migrate

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
_ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)


def source(name: str, url: str, **more: object) -> SourceConfig:
    return _ADAPTER.validate_python({"name": name, "url": url, **more})


async def removed(engine: AsyncEngine) -> dict[str, datetime | None]:
    query = select(sources_table.c.name, sources_table.c.removed_at)
    async with reading(engine) as conn:
        return {name: at for name, at in await conn.execute(query)}


async def test_a_load_adds_changes_and_removes_and_again_changes_nothing(
    engine: AsyncEngine,
) -> None:
    store = Definitions(engine)
    first = [source("a", "https://a.ma/f", tags=["x"]), source("b", "https://b.ma/f")]
    changes = await store.load(first, NOW)
    assert changes.counts == {"added": 2, "changed": 0, "back": 0, "updated": 0, "unchanged": 0}
    again = await store.load(first, NOW)
    assert again.counts["unchanged"] == 2
    assert sum(again.counts.values()) == 2  # nothing else

    later = NOW + timedelta(hours=1)
    second = [
        source("a", "https://a.ma/f", tags=["y"]),  # another tag: new settings only
        source("c", "https://c.ma/f"),
    ]
    changes = await store.load(second, later)
    assert (changes.counts["updated"], changes.counts["added"], changes.counts["removed"]) == (
        1,
        1,
        1,
    )
    assert changes.shown["removed"] == ["b"]
    assert await removed(engine) == {"a": None, "b": later, "c": None}
    assert (await SourceStore(engine).states(["c"]))["c"].next_due_at == later
    held = await store.read(["a", "b"])
    assert held["a"].definition is not None
    assert from_definition(held["a"].definition).tags == ["y"]

    changes = await store.load(first, later)  # b back, c removed
    assert changes.shown["back"] == ["b"] and changes.shown["removed"] == ["c"]


async def test_another_url_starts_the_source_afresh(engine: AsyncEngine) -> None:
    store = Definitions(engine)
    await store.load([source("a", "https://a.ma/f")], NOW)
    async with transaction(engine) as conn:  # as after polls: validators, a first poll, gone
        await conn.execute(
            update(sources_table).values(
                etag='"v1"', first_poll_at=NOW, gone_at=NOW, error_count=3,
                next_due_at=NOW + timedelta(hours=5),
            )
        )  # fmt: skip
    later = NOW + timedelta(hours=1)
    changes = await store.load([source("a", "https://a.ma/other")], later)
    assert changes.shown["changed"] == ["a"]
    state = (await SourceStore(engine).states(["a"]))["a"]
    assert (state.url, state.etag, state.first_poll_at, state.gone_at, state.error_count) == (
        "https://a.ma/other",
        None,
        None,
        None,
        0,
    )
    assert state.next_due_at == later


async def test_many_sources_load_in_batches_and_replicas_read_only_what_they_claim(
    engine: AsyncEngine,
) -> None:
    store = Definitions(engine)
    count = BATCH + 300  # two batches
    given = [source(f"s{n:05}", f"https://x.ma/{n}", tags=[f"t{n % 3}"]) for n in range(count)]
    changes = await store.load(given, NOW)
    assert changes.counts["added"] == count
    assert len(changes.shown["added"]) == 20  # the rest counted, not listed

    held = StoredSources(store, held=3)
    with statements(engine) as seen:
        found = await held.fetch(["s00001", "s00002", "nope"])
    assert set(found) == {"s00001", "s00002"}
    assert found["s00002"].tags == ["t2"]
    assert len(seen) == 1 and "IN" in seen[0].upper()  # one statement, of those names
    await held.fetch(["s00003", "s00004"])
    assert len(held) == 3 and "s00001" not in held  # bounded: the least recently claimed go

    # a later load's new settings reach the replica at its next claim of the source
    given[4] = source("s00004", "https://x.ma/4", tags=["new"])
    await store.load(given, NOW)
    assert (await held.fetch(["s00004"]))["s00004"].tags == ["new"]


async def test_a_removed_source_is_no_longer_read_and_a_gone_one_not_by_the_daemon(
    engine: AsyncEngine,
) -> None:
    store = Definitions(engine)
    a, b, c = (source(n, f"https://{n}.ma/f") for n in "abc")
    await store.load([a, b, c], NOW)
    await store.load([a, c], NOW)  # b removed: its row keeps its definition
    async with transaction(engine) as conn:  # c answered 410 Gone
        await conn.execute(
            update(sources_table).where(sources_table.c.name == "c").values(gone_at=NOW)
        )
    assert set(await store.read(["a", "b", "c"])) == {"a", "c"}  # (status shows c, gone)
    assert set(await store.read(["a", "b", "c"], polled=True)) == {"a"}
    held = StoredSources(store, polled=True)
    assert set(await held.fetch(["a", "b", "c"])) == {"a"}
    await store.load([a, b], NOW)  # b back, c removed: the one held goes at the next read
    assert set(await held.fetch(["a", "b", "c"])) == {"a", "b"}
    assert set(held) == {"a", "b"}


async def test_a_secret_written_as_a_variable_stays_out_of_the_table(
    engine: AsyncEngine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "feeds.csv"
    path.write_text(
        "name,url,username,password\na,https://a.ma/f,bot,${A_PASSWORD}\n", encoding="utf-8"
    )
    store = Definitions(engine)
    await store.load_batches(sources_file_definitions(path, {"A_PASSWORD": "s3cret"}), NOW)
    async with reading(engine) as conn:
        (text,) = (await conn.execute(select(sources_table.c.definition))).scalars()
    assert "s3cret" not in text and "${A_PASSWORD}" in text
    monkeypatch.setenv("A_PASSWORD", "replica-pw")  # the replica's own environment
    found = await StoredSources(store).fetch(["a"])
    password = found["a"].password
    assert password is not None and password.get_secret_value() == "replica-pw"
    monkeypatch.delenv("A_PASSWORD")
    caplog.set_level(logging.ERROR)
    assert await StoredSources(store).fetch(["a"]) == {}  # said, naming the source
    (said,) = [r for r in caplog.records if r.getMessage() == "definition-invalid"]
    fields = said.__dict__["fields"]
    assert fields["source"] == "a" and "A_PASSWORD is not set" in fields["error"]
    # what shows sources (monitor status) reads them where the secrets are not set
    shown = await StoredSources(store, env=Unexpanded()).fetch(["a"])
    password = shown["a"].password
    assert password is not None and password.get_secret_value() == "${A_PASSWORD}"


async def test_a_file_changed_since_its_check_removes_nothing(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "feeds.csv"
    path.write_text("name,url\na,https://a.ma/f\nb,https://b.ma/f\n", encoding="utf-8")
    store = Definitions(engine)
    checked = checked_sources_file(path, {})
    await store.load_batches(sources_file_definitions(path, {}), NOW, checked.unchanged)
    checked = checked_sources_file(path, {})  # the next load's check
    path.write_text("name,url\na,https://a.ma/f\n", encoding="utf-8")  # then b is gone from it
    changes = await store.load_batches(sources_file_definitions(path, {}), NOW, checked.unchanged)
    assert changes.stopped and "removed" not in changes.counts
    assert await removed(engine) == {"a": None, "b": None}
    checked = checked_sources_file(path, {})  # checked again: the load follows it
    changes = await store.load_batches(sources_file_definitions(path, {}), NOW, checked.unchanged)
    assert not changes.stopped and changes.shown["removed"] == ["b"]


async def test_the_tags_are_indexed_as_each_load_writes_them(engine: AsyncEngine) -> None:
    store = Definitions(engine)
    long_tag = "x" * 201  # longer than source_tags keeps: never found by a filter
    await store.load(
        [
            source("a", "https://a.ma/f", tags=["maroc", "eco", "maroc"]),
            source("b", "https://b.ma/f", tags=["eco", long_tag]),
            source("c", "https://c.ma/f"),
        ],
        NOW,
    )
    assert (await store.tagged("eco"), await store.tagged("maroc")) == (["a", "b"], ["a"])
    assert await store.tags() == ["eco", "maroc"]
    # a's tags change, b is removed: the filter follows the last load
    await store.load(
        [source("a", "https://a.ma/f", tags=["tech"]), source("c", "https://c.ma/f")], NOW
    )
    assert (await store.tagged("eco"), await store.tagged("tech")) == ([], ["a"])
    with statements(engine) as seen:
        await store.tagged("tech")
    assert "source_tags.tag = " in seen[0]  # by the index (tag, source), no definition read


async def test_the_migration_indexes_the_tags_of_definitions_loaded_before_it(
    storage: str,
) -> None:
    await at_revision(storage, "0017")
    engine = migration_engine(engine_url(storage))
    tagged = definition(source("a", "https://a.ma/f", tags=["maroc", "eco"]))
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(sources_table),
                [
                    {"name": n, "url": "https://x.ma", "config_key": n, "definition": d,
                     "redirect_count": 0, "error_count": 0, "last_new_items": 0,
                     "last_matches": 0}
                    for n, d in (("a", tagged), ("b", None))
                ],
            )  # fmt: skip
            await conn.run_sync(migrate("upgrade", "head"))
    finally:
        await engine.dispose()
    opened = await open_engine(storage)
    try:
        assert await Definitions(opened).tagged("maroc") == ["a"]
        assert await Definitions(opened).tags() == ["eco", "maroc"]
    finally:
        await opened.dispose()
