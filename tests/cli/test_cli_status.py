"""``monitor status`` pages the sources (issue 25): broken first then by name, 50 by default
with a footer saying how many more and how to see them, ``--failing`` for the broken and those
whose last poll failed, ``--source NAME`` for one in full (exit 2 with the nearest name for an
unknown one), and the subscribers bounded the same way; on each store."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.cli.main import main
from monitor.cli.status import status_command
from monitor.config.model import Config
from monitor.core.models import Delivery, Item, PollOutcome
from monitor.store import open_engine, transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import digests, outbox, sources
from tests.support.peers import FakeClock
from tests.support.statements import every_statement

CLOCK = FakeClock()
T0 = CLOCK.now
COUNT = 250  # more than a store page (MAX_PAGE, 200)
BROKEN = {"s007": "failing", "s042": "silent", "s201": "failing"}
GONE = "s055"
ERRED = "s100"  # its last poll failed, its health not yet failing
FOOTER = "(--limit N, --failing, --source NAME)"


def config_of(storage: str, count: int = COUNT, subscribers: int = 3) -> Config:
    return Config.model_validate({
        "storage": storage,
        "sources": [{"name": f"s{n:03d}", "url": f"https://s{n:03d}.ma/feed"}
                    for n in range(count)],
        "rules": [{"name": "ia", "any": ["IA"]}],
        "subscribers": [{"name": f"u{n}", "console": True} for n in range(subscribers)],
    })  # fmt: skip


async def _polled(engine: AsyncEngine) -> None:
    """What polls would have left: all polled, a few broken, one gone, one last poll failed."""
    three = T0 - timedelta(hours=3)
    async with transaction(engine) as conn:
        await conn.execute(
            update(sources).values(
                first_poll_at=T0 - timedelta(days=2),
                last_poll_at=T0 - timedelta(minutes=5),
                last_result="ok",
                last_status=200,
                next_due_at=T0 + timedelta(minutes=10),
            )
        )
        for name, health in BROKEN.items():
            values: dict[str, Any] = {"health": health, "health_since": three}
            if health == "failing":
                values.update(last_result="error", last_status=None, error_count=4,
                              last_error="timeout after 30s")  # fmt: skip
            await conn.execute(update(sources).where(sources.c.name == name).values(**values))
        await conn.execute(
            update(sources)
            .where(sources.c.name == GONE)
            .values(gone_at=three, last_status=410, last_result="error", last_error="HTTP 410")
        )
        await conn.execute(
            update(sources)
            .where(sources.c.name == ERRED)
            .values(last_result="error", last_status=503, last_error="HTTP 503", error_count=1)
        )
        await conn.execute(
            insert(digests).values(
                id="dg_dead", subscriber="u1", created_at=three, state="dead", attempts=20,
                next_attempt_at=three, last_error="connection refused",
            )
        )  # fmt: skip
        await conn.execute(update(outbox).values(digest_id="dg_dead", state="dead"))


async def _owed(engine: AsyncEngine) -> None:
    """One item of s001 owed to u1 (the store's one-transaction write of a poll)."""
    item = Item("s001", "k1", "https://s001.ma/1", "IA au Maroc", "", "", T0)
    delivery = Delivery("u1", item.key, ("ia",), {"ia": ("IA",)})
    poll = PollOutcome("s001", T0, "ok", 200, None, None, None, T0)
    await SourceStore(engine).record([replace(poll, items=(item,), deliveries=(delivery,))])


@pytest.fixture
async def stored(storage: str) -> AsyncIterator[Config]:
    config = config_of(storage)
    engine = await open_engine(storage)
    try:
        await SourceStore(engine).sync(config, T0 - timedelta(days=3))
        await _owed(engine)
        await _polled(engine)
    finally:
        await engine.dispose()
    yield config


async def _status(capsys: pytest.CaptureFixture[str], config: Config, **options: Any) -> list[str]:
    capsys.readouterr()
    assert await status_command(config, CLOCK, **options) == 0
    return capsys.readouterr().out.splitlines()


def _sources(lines: list[str]) -> list[str]:
    return [
        line.split(":")[0].removeprefix("source ") for line in lines if line.startswith("source")
    ]


async def test_fifty_broken_first_then_how_many_more(
    stored: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = await _status(capsys, stored)
    names = _sources(lines)
    assert names[:4] == ["s007", "s042", "s055", "s201"]  # broken (gone too), by name
    assert names[4:] == [f"s{n:03d}" for n in range(50) if f"s{n:03d}" not in BROKEN][:46]
    assert "failing since 3h ago" in lines[0] and "error: timeout after 30s" in lines[0]
    assert "next due never (gone: fix its url)" in lines[2]
    assert lines[50] == f"… and 200 more sources {FOOTER}"
    assert lines[51].startswith("subscriber u0: pending 0, failed 0, dead 0")
    assert len(lines) == 54  # (three subscribers, all shown)


async def test_a_limit_past_a_store_page_reads_on(
    stored: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = await _status(capsys, stored, limit=COUNT)
    names = _sources(lines)
    assert len(names) == len(set(names)) == COUNT  # two store pages, stitched
    assert not [line for line in lines if line.startswith("…")]
    few = await _status(capsys, stored, limit=2)
    assert _sources(few) == ["s007", "s042"]
    assert f"… and 248 more sources {FOOTER}" in few
    assert few[-1] == "… and 1 more subscribers (--limit N; monitor status --subscriber NAME)"


async def test_failing_keeps_the_broken_and_the_last_poll_failed(
    stored: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = await _status(capsys, stored, failing=True)
    assert _sources(lines) == ["s007", "s042", "s055", "s201", ERRED]
    assert ", error 503, " in lines[4] and lines[4].endswith("error: HTTP 503")
    # the subscribers with a failing or dead digest (or disabled), not the others
    assert lines[5:] == [
        "subscriber u1: pending 0, failed 0, dead 1, digests sent 0, items sent 0, "
        "last error: connection refused"
    ]


async def test_failing_with_none_says_so(storage: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = config_of(storage, count=3)
    engine = await open_engine(storage)
    try:
        await SourceStore(engine).sync(config, T0)
    finally:
        await engine.dispose()
    assert await _status(capsys, config, failing=True) == ["no failing source (of 3)"]


async def test_one_source_in_full(stored: Config, capsys: pytest.CaptureFixture[str]) -> None:
    lines = await _status(capsys, stored, source="s007")
    assert lines == [
        "source s007 (feed): failing since 3h ago",
        "  url: https://s007.ma/feed",
        "  last poll: 5m ago, error, new items 0, matches 0, errors in a row 4",
        "  error: timeout after 30s",
        "  next due: 10m from now",
        "  push: none (polled)",
    ]
    gone = await _status(capsys, stored, source=GONE)
    assert gone[0] == "source s055 (feed): gone since 3h ago (answered 410 Gone: fix its url)"
    assert "  next due: never" in gone


async def test_an_unknown_source_exits_2_with_the_nearest_name(
    stored: Config, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await status_command(stored, CLOCK, source="s07") == 2
    err = capsys.readouterr().err
    said = re.fullmatch(r"monitor: no source named s07; did you mean (s\d{3})\?\n", err)
    assert said is not None, err
    assert said[1] in {s.name for s in stored.sources}
    assert await status_command(stored, CLOCK, source="zzzzzz") == 2
    assert "no source named zzzzzz (monitor status lists them)" in capsys.readouterr().err


async def test_sources_the_store_lacks_yet(
    storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only status before the daemon ran with a new configuration: a small one lists
    its new sources as never polled; a large one says how many are not stored yet."""
    config = config_of(storage, count=3)
    engine = await open_engine(storage)
    try:
        await SourceStore(engine).sync(config, T0)
    finally:
        await engine.dispose()
    grown = config_of(storage, count=5)
    lines = await _status(capsys, grown)
    assert _sources(lines) == ["s000", "s001", "s002", "s003", "s004"]
    assert "source s004: last poll never polled" in lines[4]
    big = await _status(capsys, config_of(storage, count=80), limit=3)
    assert _sources(big) == ["s000", "s001", "s002"]
    assert "… and 77 configured sources not in the store yet: the daemon adds them" in big[3]


async def test_a_page_costs_the_same_statements_whatever_the_sources(
    storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = []
    for count in (60, 600):
        config = config_of(storage, count=count)
        engine = await open_engine(storage)
        try:
            await SourceStore(engine).sync(config, T0)
        finally:
            await engine.dispose()
        with every_statement() as ran:  # (the command opens its own engine)
            lines = await _status(capsys, config)
        assert lines[50] == f"… and {count - 50:,} more sources {FOOTER}"
        counts.append(len(ran))
    assert counts[0] == counts[1]


def test_the_command_line_takes_the_options(stored: Config, tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"storage: {stored.storage}\nrules:\n  - name: ia\n    any: [IA]\n"
        "sources:\n  - name: s007\n    url: https://s007.ma/feed\n"
        "subscribers:\n  - name: u1\n    console: true\n",
        encoding="utf-8",
    )
    assert main(["status", "-c", str(path), "--failing", "--limit", "1"]) == 0
    assert main(["status", "-c", str(path), "--source", "s007"]) == 0
    assert main(["status", "-c", str(path), "--source", "s008"]) == 2
    with pytest.raises(SystemExit) as exited:
        main(["status", "-c", str(path), "--limit", "0"])
    assert exited.value.code == 2
