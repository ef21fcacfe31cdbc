"""Parsing in worker processes: the event loop stays responsive, and a parse that runs too
long or needs too much memory fails alone, with the next parse served by a fresh worker."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from monitor.config.sections import LimitsConfig
from monitor.core.errors import ParseError
from monitor.core.models import Fetched
from monitor.sources import parser as parser_module
from monitor.sources.base import Read
from monitor.sources.feed import FeedKind
from monitor.sources.normalize import normalize
from monitor.sources.registry import FEED, Parser
from tests.support.paths import DATA

FEEDS = DATA / "feeds"
KIND = FeedKind()
MB = 1024 * 1024
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SMALL = (
    b'<rss version="2.0"><channel><title>t</title>'
    b"<item><title>Petit flux</title><link>https://x.test/p</link></item></channel></rss>"
)


@cache
def big_feed(count: int = 20_000, version: str = "2.0") -> bytes:
    """An RSS document of ``count`` items, about 10 MB for 20,000."""
    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 6
    items = "".join(
        f"<item><title>Item {i} : démarchage</title><link>https://x.test/{i}</link>"
        f"<guid>g{i}</guid><description>{filler}</description>"
        "<pubDate>Thu, 26 Nov 2026 07:12:03 GMT</pubDate></item>"
        for i in range(count)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="{version}"><channel>'
        f"<title>Big</title>{items}</channel></rss>"
    ).encode()


# feedparser's path (RSS 0.92), a few tenths of a second: a parse waiting for it starts another
# worker
SLOW = big_feed(1500, version="0.92")


def fetched(body: bytes, content_type: str | None = "application/rss+xml") -> Fetched:
    return Fetched("https://x.test/feed", 200, body, content_type, None, None)


def limits(**values: object) -> LimitsConfig:
    return LimitsConfig.model_validate(values)


async def heartbeat(lateness: list[float], tick: float = 0.1) -> None:
    """Wake up every ``tick`` seconds and record how late each wake-up was."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + tick
        await asyncio.sleep(tick)
        lateness.append(loop.time() - due)


@pytest.mark.slow
async def test_the_loop_stays_responsive_while_a_20000_item_feed_is_parsed() -> None:
    body = big_feed()
    assert len(body) > 10 * 1_000_000
    lateness: list[float] = []
    async with Parser(LimitsConfig()) as parser:
        beat = asyncio.create_task(heartbeat(lateness))
        try:
            parsed = await parser.parse(KIND, fetched(body), "f", NOW)
        finally:
            beat.cancel()
    assert parsed.total == 20_000
    assert len(parsed.items) == 2000  # limits.max_items by default
    assert parsed.items[0].title == "Item 0 : démarchage"
    assert parsed.items[-1].link == "https://x.test/1999"
    assert parsed.items[0].published == datetime(2026, 11, 26, 7, 12, 3, tzinfo=UTC)
    assert lateness, "the heartbeat never ran"
    assert max(lateness) < 0.2


@pytest.mark.slow
async def test_a_parse_past_the_deadline_fails_and_the_next_one_works() -> None:
    async with Parser(limits(parse_timeout=timedelta(seconds=1))) as parser:
        with pytest.raises(ParseError, match=r"parse took longer than 1s \(limits.parse_timeout\)"):
            # (RSS 0.92: feedparser's path, seconds; plain RSS 2.0 would take the fast one)
            await parser.parse(KIND, fetched(big_feed(version="0.92")), "f", NOW)
        parsed = await parser.parse(KIND, fetched(SMALL), "f", NOW)
    assert [e.title for e in parsed.items] == ["Petit flux"]  # not a stale reply


@pytest.mark.slow
async def test_a_parse_past_the_memory_cap_fails_and_the_next_one_works() -> None:
    async with Parser(limits(parse_memory=100 * MB)) as parser:
        with pytest.raises(ParseError, match=r"more than 100 MB of memory"):
            await parser.parse(
                KIND, fetched(big_feed(version="0.92")), "f", NOW
            )  # feedparser's path
        parsed = await parser.parse(KIND, fetched(SMALL), "f", NOW)
    assert [e.title for e in parsed.items] == ["Petit flux"]


@pytest.mark.parametrize("form", ["rss", "json"])
async def test_max_items_keeps_the_first_entries_and_reports_the_total(form: str) -> None:
    if form == "rss":
        body = big_feed(30)
    else:
        items = [{"id": str(i), "title": f"Item {i} : démarchage"} for i in range(30)]
        body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()
    async with Parser(limits(max_items=5)) as parser:
        parsed = await parser.parse(KIND, fetched(body, None), "f", NOW)
    assert parsed.total == 30
    assert [e.title for e in parsed.items] == [f"Item {i} : démarchage" for i in range(5)]


@pytest.mark.parametrize("name", ["rss20.xml", "atom.xml", "jsonfeed11.json", "windows1252.xml"])
async def test_items_from_the_worker_equal_the_in_process_ones(name: str) -> None:
    """The worker parses and normalizes: what comes back is what both steps give here."""
    body = (FEEDS / name).read_bytes()
    async with Parser(LimitsConfig()) as parser:
        read = await parser.parse(FEED, fetched(body, None), "f", NOW)
    entries = KIND.parse(fetched(body, None), 2000).entries
    items, shared = normalize("f", entries, NOW)
    assert read == Read(items, len(entries), len(entries), shared)
    assert read.items  # a real comparison, not two empty lists


async def test_parse_errors_come_back_as_parse_errors_and_the_worker_goes_on() -> None:
    async with Parser(LimitsConfig()) as parser:
        for body, message in [(b"<html><body>Hi</body></html>", "not an RSS"), (b"", "empty")]:
            with pytest.raises(ParseError, match=message):
                await parser.parse(KIND, fetched(body, "text/html"), "f", NOW)
        parsed = await parser.parse(KIND, fetched(SMALL), "f", NOW)
    assert parsed == Read(parsed.items, 1, 1, 0)


async def test_several_workers_parse_side_by_side() -> None:
    bodies = [big_feed(50), SMALL, big_feed(3), SMALL]
    async with Parser(LimitsConfig(), workers=2) as parser:
        results = await asyncio.gather(*(parser.parse(KIND, fetched(b), "f", NOW) for b in bodies))
    assert [r.total for r in results] == [50, 1, 3, 1]


async def test_close_stops_a_parse_in_flight_and_refuses_new_ones() -> None:
    parser = Parser(limits(parse_timeout=timedelta(seconds=60)))
    task = asyncio.create_task(parser.parse(KIND, fetched(big_feed()), "f", NOW))
    await asyncio.sleep(0)  # let the parse reach its worker
    await parser.close()
    with pytest.raises(ParseError, match="parse worker"):
        await task
    with pytest.raises(ParseError, match="shutting down"):
        await parser.parse(KIND, fetched(SMALL), "f", NOW)
    await parser.close()  # twice is harmless


async def test_a_ctrl_c_at_the_terminal_is_for_the_daemon_not_its_workers() -> None:
    """A terminal sends Ctrl-C's SIGINT to its whole foreground group, and the daemon stops its
    workers itself: a worker is in a group of its own from its start (one still importing the
    parsers, not yet ignoring SIGINT, died printing a traceback)."""
    async with Parser(LimitsConfig()) as parser:
        await parser.parse(KIND, fetched(SMALL), "f", NOW)
        [worker] = parser._idle
        assert os.getpgid(worker.process.pid) == worker.process.pid != os.getpgid(0)


@pytest.mark.slow
async def test_a_second_worker_starts_only_when_a_parse_would_wait() -> None:
    """One worker is warm from the start; the pool grows to ``workers`` only under load (an
    idle daemon keeps one process), and the workers that started stay while they are used."""
    async with Parser(LimitsConfig(), workers=2) as parser:
        for _ in range(3):  # one after the other: one worker does it all
            await parser.parse(KIND, fetched(SMALL), "f", NOW)
        alone = {worker.process.pid for worker in parser._idle}
        assert len(alone) == 1
        # parses that wait a moment (less than SPAWN_AFTER) do not start another
        await asyncio.gather(*(parser.parse(KIND, fetched(SMALL), "f", NOW) for _ in range(4)))
        assert {worker.process.pid for worker in parser._idle} == alone
        await asyncio.gather(*(parser.parse(KIND, fetched(SLOW), "f", NOW) for _ in range(4)))
        both = {worker.process.pid for worker in parser._idle}
        assert len(both) == 2 and alone < both


@pytest.mark.slow
async def test_an_extra_worker_unused_for_a_while_is_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A burst's extra worker does not keep its memory: after IDLE_RETIRE unused it exits, the
    one used last stays, and a later burst starts another."""
    # longer than one SLOW parse (0.3 s, normalization included): a worker idle for less is
    # not what this tests
    monkeypatch.setattr(parser_module, "IDLE_RETIRE", 1.0)
    async with Parser(LimitsConfig(), workers=2) as parser:
        await asyncio.gather(*(parser.parse(KIND, fetched(SLOW), "f", NOW) for _ in range(4)))
        workers = list(parser._idle)
        assert len(workers) == 2
        async with asyncio.timeout(10):
            while len(parser._idle) > 1 or parser._stopping:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        stopped = [w for w in workers if w not in parser._idle]
        assert len(stopped) == 1 and stopped[0].process.poll() is not None
        assert parser._idle[0].alive()
        parsed = await parser.parse(KIND, fetched(SMALL), "f", NOW)  # the one kept still works
        assert parsed.total == 1
        await asyncio.gather(*(parser.parse(KIND, fetched(SLOW), "f", NOW) for _ in range(4)))
        assert len(parser._idle) == 2


@pytest.mark.slow
async def test_resting_stops_idle_workers_and_the_next_parse_starts_one() -> None:
    async with Parser(LimitsConfig()) as parser:
        await parser.parse(KIND, fetched(SMALL), "f", NOW)
        [worker] = parser._idle
        parser.rest()
        assert parser.running == 0
        assert await asyncio.to_thread(worker.process.wait, 10) == 0  # told to go, it went
        assert (await parser.parse(KIND, fetched(SMALL), "f", NOW)).total == 1
        assert parser.running == 1
        busy = asyncio.create_task(parser.parse(KIND, fetched(big_feed()), "f", NOW))
        async with asyncio.timeout(10):
            while not parser._busy:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        parser.rest()  # a parse in flight keeps its worker
        assert (await busy).total == 20_000
        assert parser.running == 1


def test_a_worker_imports_the_parsers_without_the_daemon() -> None:
    """A worker is a fresh interpreter: what it imports is its footprint (29 MB with the
    parsers, 53 MB when importing a parser brought the HTTP client and the configuration)."""
    script = (
        "import sys\n"
        "from monitor.sources.worker import main\n"
        "import monitor.sources.fastrss, monitor.sources.feed\n"
        "heavy = ('aiohttp', 'pydantic', 'sqlalchemy', 'jinja2', 'yaml', 'monitor.config.model')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
