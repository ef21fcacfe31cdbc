"""Daemons in store mode (``sources_from: store``, issue 25) polling a loopback feed server: the
sources come from the store, written by a load of a CSV sources file; a replica reads the
definitions of the sources it claims only (no statement at start or at a claim reads the
whole table's); on PostgreSQL two replicas share the sources, each polled once; a definition a
later load changed is what the replica that next claims the source polls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from monitor.config.load import load_config, load_sources_file
from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.store import open_engine
from monitor.store.definitions import Changes, Definitions
from monitor.store.sources import SourceStore
from tests.support.daemon import RULES, SECRET, titles, webhook_subscriber
from tests.support.databases import postgres_database
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss

ENV = {"WEBHOOK_SECRET": SECRET}


def write_config(folder: Path, storage: str, receiver: WebhookReceiver) -> Path:
    path = folder / "monitor.yaml"
    path.write_text(
        f"storage: {storage}\n"
        "sources_from: store\n"
        "sources_file: feeds.csv\n"
        "network: {allow: [127.0.0.0/8], timeout: 5s, concurrency: 2}\n"
        "defaults: {interval: 10m}\n"
        f"{RULES}  - name: maroc\n    any: [IA]\n    tags: [maroc]\n"
        f"subscribers:\n{webhook_subscriber(receiver.url)}",
        encoding="utf-8",
    )
    return path


def write_sources(folder: Path, feeds: FeedServer, paths: dict[str, str], tagged: str = "") -> None:
    """The CSV sources file: ``tagged`` has the tag maroc."""
    rows = "".join(
        f"{name},{feeds.url}{path},{'maroc' if name == tagged else ''}\n"
        for name, path in paths.items()
    )
    (folder / "feeds.csv").write_text("name,url,tags\n" + rows, encoding="utf-8")


def rules_of(receiver: WebhookReceiver) -> dict[str, list[str]]:
    """The rules each item delivered matched, by its title."""
    bodies = [json.loads(r.body) for r in receiver.accepted()]
    return {i["title"]: i["rules"] for body in bodies for i in body["items"]}


async def load(config: Config, clock: FakeClock) -> Changes:
    """What ``monitor sources load`` does (tests/cli/test_cli_sources_load.py runs it)."""
    assert config.sources_file is not None
    given = load_sources_file(config.sources_file)
    engine = await open_engine(config.storage)
    try:
        return await Definitions(engine).load(given, clock())
    finally:
        await engine.dispose()


def publish(feeds: FeedServer, paths: list[str]) -> None:
    for n, path in enumerate(paths):
        item = {
            "title": f"IA numéro {n}",
            "link": f"https://x.ma{path}",
            "guid": path,
            "published": FakeClock().now - timedelta(minutes=5),  # recent: it alerts
        }
        feeds.resources[path] = Resource(rss([item]))


@contextmanager
def every_statement() -> Iterator[list[str]]:
    """The statements every engine of this process runs inside the block."""
    seen: list[str] = []

    def listened(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(Engine, "before_cursor_execute", listened)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", listened)


def whole_table_reads(seen: list[str]) -> list[str]:
    """Statements reading sources' definitions other than by name (after checking some did
    read them: by name)."""
    reads = [s for s in seen if "definition" in s and s.lstrip().upper().startswith("SELECT")]
    assert reads, "no definition read at all"
    return [s for s in reads if " IN " not in s]


async def test_one_daemon_on_sqlite_polls_what_the_store_defines(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    publish(feeds, ["/a", "/b", "/c", "/other"])
    write_sources(tmp_path, feeds, {"a": "/a", "b": "/b", "c": "/c"}, tagged="b")
    config = load_config(write_config(tmp_path, f"sqlite:///{tmp_path}/m.db", receiver), ENV)
    assert config.sources == []  # the daemon does not hold them
    assert (await load(config, clock)).counts["added"] == 3
    with every_statement() as seen:
        async with App(config, clock=clock) as app:
            await app.poll_due()
            await app.settle()
            assert whole_table_reads(seen) == []
            assert {p: feeds.hits[p] for p in ("/a", "/b", "/c")} == {"/a": 1, "/b": 1, "/c": 1}
            # the rule scoped by tags: b's item only, b's tags read from its definition
            assert rules_of(receiver) == {
                "IA numéro 0": ["ia"],
                "IA numéro 1": ["ia", "maroc"],
                "IA numéro 2": ["ia"],
            }
            # a later load: b is another feed, c is gone; the daemon runs on unchanged
            write_sources(tmp_path, feeds, {"a": "/a", "b": "/other"})
            changes = await load(config, clock)
            assert (changes.shown["changed"], changes.shown["removed"]) == (["b"], ["c"])
            clock.advance(timedelta(minutes=11))
            await app.poll_due()
            await app.settle()
            assert (feeds.hits["/a"], feeds.hits["/other"], feeds.hits["/c"]) == (2, 1, 1)


@pytest.mark.postgres
async def test_two_replicas_on_postgresql_share_the_stored_sources(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    feeds.delay = 0.3  # the first replica's polls are in flight when the second claims
    clock = FakeClock()
    paths = {f"s{n:02}": f"/s{n:02}" for n in range(12)}
    publish(feeds, [*paths.values(), "/moved"])
    write_sources(tmp_path, feeds, paths)
    async with postgres_database() as storage:
        config = load_config(write_config(tmp_path, storage, receiver), ENV)
        await load(config, clock)
        with every_statement() as seen:
            async with App(config, clock=clock) as one, App(config, clock=clock) as two:
                claimed = []
                while sum(feeds.hits[p] for p in paths.values()) < len(paths):
                    await one.poll_due()
                    await two.poll_due()
                    claimed.append((set(one.polling.in_flight), set(two.polling.in_flight)))
                    await asyncio.gather(one.settle(), two.settle())
                    assert len(claimed) < 10, claimed
                assert whole_table_reads(seen) == []
                # each source polled once, by one replica; both polled
                assert {p: feeds.hits[p] for p in paths.values()} == dict.fromkeys(
                    paths.values(), 1
                )
                assert all(not (a & b) for a, b in claimed)
                assert claimed[0][0] and claimed[0][1]
                # s03 moves: whichever replica claims it next polls the new URL
                write_sources(tmp_path, feeds, {**paths, "s03": "/moved"})
                assert (await load(config, clock)).shown["changed"] == ["s03"]
                clock.advance(timedelta(minutes=11))
                while feeds.hits["/moved"] == 0:
                    await one.poll_due()
                    await two.poll_due()
                    await asyncio.gather(one.settle(), two.settle())
                    assert feeds.hits["/s00"] <= 2
                assert (feeds.hits["/moved"], feeds.hits["/s03"]) == (1, 1)
    digests = [t for d in titles(receiver) for t in d]
    assert len(digests) == len(set(digests))  # no alert twice


async def test_a_source_no_load_defined_waits_an_interval_instead_of_every_claim(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    # a store the configuration filled (sources_from: config) switched to store mode: its rows
    # have no definition until a load gives them one
    feeds, receiver = peers
    clock = FakeClock()
    publish(feeds, ["/a"])
    storage = f"sqlite:///{tmp_path}/m.db"
    path = write_config(tmp_path, storage, receiver)
    configured = (
        path.read_text(encoding="utf-8")
        .replace("sources_file: feeds.csv\n", "")
        .replace(
            "sources_from: store\n",
            f"sources:\n  - name: a\n    url: {feeds.url}/a\n    tags: [maroc]\n",
        )
    )
    (tmp_path / "old.yaml").write_text(configured, encoding="utf-8")
    engine = await open_engine(storage)
    try:
        await SourceStore(engine).sync(load_config(tmp_path / "old.yaml", ENV), clock())
    finally:
        await engine.dispose()
    config = load_config(path, ENV)
    async with App(config, clock=clock) as app:
        with every_statement() as seen:
            await app.poll_due()
            await asyncio.sleep(0.5)  # ten times the wait of a claim for what is due now
            await app.settle()
        state = (await app.store.states(["a"]))["a"]
        assert state.next_due_at == clock() + config.defaults.interval
        assert feeds.hits["/a"] == 0
        claims = [s for s in seen if "RETURNING" in s and "lease_owner" in s]
        assert len(claims) == 1, claims  # the claim, then no other before the source is due
        write_sources(tmp_path, feeds, {"a": "/a"})
        await load(config, clock)  # same URL: keeps its state, gains its definition
        clock.advance(config.defaults.interval)
        await app.poll_due()
        await app.settle()
        assert feeds.hits["/a"] == 1
