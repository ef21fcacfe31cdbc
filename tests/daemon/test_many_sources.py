"""Issue 25: 100,000 configured sources (and 5,000 subscribers) on each store. Every statement
the daemon's paths over all sources run — the App's open and sync, a claim, ``monitor status``,
the metrics gauges, the overview's first page (with a tag), ``/api/sources``, a flush, a
second start (nothing to insert) — binds a bounded number of parameters, none the list of all
sources, and works: PostgreSQL refuses a statement past 32,767 parameters."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.cli.status import status_command
from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.daemon.serving import Operations
from monitor.store import PARAMETERS, transaction
from monitor.store.gauges import count_polled, read_gauges
from monitor.store.sources import claim_due
from monitor.store.tables import sources
from monitor.web.api_sources import sources_json
from monitor.web.overview import overview
from tests.support.peers import FakeClock
from tests.support.statements import Ran, every_statement

SOURCES = 100_000
SUBSCRIBERS = 5_000
CLOCK = FakeClock()
BROKEN = {"s000007": "failing", "s042424": "silent", "s099998": "failing"}


def many(storage: str) -> Config:
    """The configuration, validated as loaded (about 3 s): the YAML file would add only its
    parsing."""
    return Config.model_validate({
        "storage": storage,
        "sources": [
            {"name": f"s{n:06d}", "url": f"https://h{n % 997}.example/feed/{n}",
             "tags": ["pair" if n % 2 == 0 else "impair"]}
            for n in range(SOURCES)
        ],
        "rules": [{"name": "ia", "any": ["IA"]}],
        "subscribers": [{"name": f"u{n:05d}", "console": True} for n in range(SUBSCRIBERS)],
    })  # fmt: skip


def widest(ran: list[Ran]) -> Ran:
    return max(ran, key=lambda one: one.parameters)


@pytest.mark.slow
async def test_no_statement_grows_with_the_sources(
    storage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = many(storage)
    now = CLOCK()
    with every_statement() as ran:
        async with App(config, clock=CLOCK) as app:
            engine = app.store.engine
            async with transaction(engine) as conn:  # what polls would have left: a few broken
                for name, health in BROKEN.items():
                    await conn.execute(
                        update(sources)
                        .where(sources.c.name == name)
                        .values(health=health, health_since=now - timedelta(hours=3))
                    )
            assert len(app.first_round.sources) == SOURCES
            # (a bulk of new sources is first polled over a window: all are due a day on)
            day = now + timedelta(days=1)
            claimed = await claim_due(app.source_leases, day, day + timedelta(minutes=5), 200)
            assert len(claimed) == 200
            states = await app.store.states(claimed)
            await app.store.reserve({name: now + timedelta(hours=1) for name in states})
            await app.source_leases.release()
            assert b"monitor_source_lag_seconds" in await Operations(app).metrics_text()
            assert await count_polled(engine) == SOURCES
            read = await read_gauges(engine, now, SOURCES)
            assert read.sources == []  # (none polled: no lag)
            page = await overview(engine, config, {"tag": "impair"}, now)
            assert [row.name for row in page["rows"]][:2] == ["s000007", "s000001"]
            assert page["troubles"].broken == {"failing": 2, "silent": 1}
            listed = await sources_json(engine, config, {"tag": "pair"}, now)
            assert listed["sources"][0]["name"] == "s042424"
            assert not await app.dispatcher.flush()  # (nothing owed)
            capsys.readouterr()
            assert await status_command(config, CLOCK) == 0
            shown = capsys.readouterr().out.splitlines()
        async with App(config, clock=CLOCK):  # again: every source known, none inserted
            pass
    assert shown[0].startswith("source s000007: ") and "failing since 3h ago" in shown[0]
    assert shown[3].startswith("source s000000: ")
    assert len([line for line in shown if line.startswith("source ")]) == 50
    assert shown[50] == "… and 99,950 more sources (--limit N, --failing, --source NAME)"
    assert shown[51].startswith("subscriber u00000: pending 0, failed 0, dead 0")
    assert shown[-1] == "… and 4,950 more subscribers (--limit N; monitor status --subscriber NAME)"
    top = widest(ran)
    assert top.parameters <= PARAMETERS, (top.parameters, top.sql[:300])
    # nor O(sources) statements: 10 INSERTs of 10,000 sources, 20 of 250 subscribers, … (about
    # 250 statements in all, migrations included)
    assert len(ran) < 1_000, Counter(one.sql.split()[0] for one in ran)
