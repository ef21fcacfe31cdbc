"""Memory held unused (monitor.core.memory): glibc's arenas limited, the heap trimmed once polls
have drained, the configuration copied densely, what was loaded at start frozen out of the
cycle collector; on this Linux/glibc machine each call works."""

from __future__ import annotations

import asyncio
import gc
import pickle
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.core import memory
from monitor.core.memory import compact, trim
from monitor.daemon.app import App
from monitor.poll import claims as polling
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, rss


def test_the_arenas_are_limited_unless_the_environment_decides() -> None:
    script = "from monitor.core.memory import limit_arenas; print(limit_arenas())"
    for env, expected in (({}, "True"), ({"MALLOC_ARENA_MAX": "4"}, "False")):
        run = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True,
            env={"PATH": "/usr/bin:/bin", **env},
        )  # fmt: skip
        assert run.stdout.strip() == expected


class Cycle:
    """An object only the cycle collector frees, as a configuration's compiled parts are."""

    def __init__(self) -> None:
        self.itself = self


@pytest.fixture
def thawed() -> Iterator[None]:
    """The test process's objects out of the permanent generation again afterwards."""
    yield
    gc.unfreeze()


@pytest.mark.slow
def test_a_frozen_cycle_waits_for_refreeze(thawed: None) -> None:
    kept = Cycle()
    alive = weakref.ref(kept)
    memory.freeze()
    assert gc.get_freeze_count() > 0
    del kept
    gc.collect()
    assert alive() is not None  # frozen: the collector's passes leave it
    memory.refreeze()
    assert alive() is None
    assert gc.get_freeze_count() > 0  # what is left is frozen again


def test_refreeze_freezes_nothing_where_nothing_was_frozen() -> None:
    memory.refreeze()
    assert gc.get_freeze_count() == 0


@pytest.mark.slow
async def test_a_reload_lets_what_was_frozen_before_it_go(tmp_path: Path, thawed: None) -> None:
    config = build_config(
        tmp_path, {"a": "http://127.0.0.1:9/feed"}, webhook_subscriber("http://127.0.0.1:9")
    )
    async with App(config) as app:
        let_go = Cycle()
        alive = weakref.ref(let_go)
        memory.freeze()  # as `monitor run` does once the App is open
        del let_go
        await app.reload(config.model_copy(update={"sources": []}))
        assert alive() is None


async def test_a_reload_gives_the_old_configurations_heap_back(tmp_path: Path) -> None:
    config = build_config(
        tmp_path, {"a": "http://127.0.0.1:9/feed"}, webhook_subscriber("http://127.0.0.1:9")
    )
    trims: list[str] = []

    def trimmed() -> bool:
        trims.append("trimmed")
        return True

    async with App(config) as app:
        app.trimmer.trimming = trimmed
        await app.reload(config.model_copy(update={"sources": []}))
        assert trims == ["trimmed"]  # at once, polls in flight or not
        assert list(app.sources) == []


@pytest.mark.slow
def test_monitor_run_freezes_what_it_loaded_to_start(tmp_path: Path) -> None:
    config = build_config(
        tmp_path, {"a": "http://127.0.0.1:9/feed"}, webhook_subscriber("http://127.0.0.1:9")
    )
    script = (
        "import asyncio, gc, pickle, sys\n"
        "from monitor.cli.commands import run_command\n"
        "config = pickle.loads(sys.stdin.buffer.read())\n"
        "status = asyncio.run(run_command(config, 'test.yaml', once=True, log_level='ERROR'))\n"
        "print(status, gc.get_freeze_count() > 0)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], input=pickle.dumps(config), capture_output=True,
        cwd=tmp_path, check=True,
    )  # fmt: skip
    assert run.stdout.decode().split() == ["0", "True"]


def test_trim_and_compact(tmp_path: Path) -> None:
    assert trim() is True  # glibc here: malloc_trim exists
    config = build_config(
        tmp_path, {"a": "http://127.0.0.1:9/feed"}, webhook_subscriber("http://127.0.0.1:9")
    )
    copied = compact(config)
    assert copied == config and copied is not config
    assert copied.sources[0] is not config.sources[0]
    unpicklable = {"lock": threading.Lock()}
    assert compact(unpicklable) is unpicklable  # kept as it is: the copy only saves memory


@pytest.mark.slow
async def test_the_heap_is_trimmed_once_polls_have_drained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trims: list[float] = []

    def trimmed() -> bool:
        trims.append(1.0)
        return True

    monkeypatch.setattr(memory, "QUIET", 0.05)
    clock = FakeClock()
    feeds = FeedServer()
    await feeds.start()
    feeds.resources["/a"] = Resource(rss([{"title": "rien", "link": "https://x.ma/1"}]))
    feeds.resources["/b"] = Resource(rss([{"title": "rien", "link": "https://x.ma/2"}]))
    config = build_config(
        tmp_path,
        {"a": f"{feeds.url}/a", "b": f"{feeds.url}/b"},
        webhook_subscriber("http://127.0.0.1:9"),
    )
    try:
        async with App(config, clock=clock) as app:
            app.trimmer.trimming = trimmed
            await app.poll_due()
            await app.settle()
            await asyncio.sleep(0.2)
            assert trims == [1.0]  # once quiet after the burst
            clock.advance(timedelta(hours=2))  # due again: another burst
            polled = sum(feeds.hits.values())
            await app.poll_due()
            await app.settle()
            await asyncio.sleep(0.2)
            assert sum(feeds.hits.values()) > polled  # (the second burst did poll)
            assert trims == [1.0]  # at most every TRIM_EVERY seconds
    finally:
        await feeds.close()


@pytest.mark.slow
async def test_the_parse_workers_rest_while_no_poll_is_due_soon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between polls far apart the parse worker's memory is given back; the next poll that
    has something to parse starts one again, and the poll succeeds."""
    clock = FakeClock()
    feeds = FeedServer()
    await feeds.start()
    feeds.resources["/a"] = Resource(rss([{"title": "rien", "link": "https://x.ma/1"}]))
    config = build_config(tmp_path, {"a": f"{feeds.url}/a"}, webhook_subscriber("http://x:9"))
    try:
        async with App(config, clock=clock) as app:
            parser = app.poller.parser
            assert parser.running == 0  # none before there is something to parse
            await app.poll_due()
            await app.settle()
            assert parser.running == 1  # the claim that started the poll saw it in flight
            await app.poll_due()  # the next tick: nothing in flight, nothing due for an hour
            assert parser.running == 0
            feeds.resources["/a"] = Resource(rss([{"title": "neuf", "link": "https://x.ma/2"}]))
            clock.advance(timedelta(hours=2))
            await app.poll_due()
            await app.settle()
            state = (await app.store.states(["a"]))["a"]
            assert (state.last_result, state.last_new_items) == ("ok", 1)
            assert parser.running == 1
            monkeypatch.setattr(polling, "PARSERS_REST", timedelta(days=1))
            await app.poll_due()  # the next poll is due within PARSERS_REST: the worker stays
            assert parser.running == 1
    finally:
        await feeds.close()


def test_freeze_without_collecting_freezes_the_garbage_too(thawed: None) -> None:
    """``run --once`` freezes without the collection first: a cycle already garbage is frozen
    with the rest (a collection before freeze() would have freed it)."""
    garbage = Cycle()
    alive = weakref.ref(garbage)
    del garbage
    memory.freeze(collect=False)
    gc.collect()
    assert alive() is not None


@pytest.mark.parametrize("enabled", [True, False])
def test_no_collection_inside_uncollected_and_the_collector_as_it_was_after(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(ValueError), memory.uncollected():
            assert not gc.isenabled()
            raise ValueError("a broken file")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
