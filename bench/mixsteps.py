"""The four steps an item goes through, timed apart in one process on bench/mix.py's documents
(bench/mixed.py): parse, normalise, match and route, store. The functions are the daemon's own:
the parse worker's FeedKind and normalize, the Matcher and Router, and the PollWriter on SQLite.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import mix
from bench.scale import Row
from monitor.config.load import load_config
from monitor.config.model import Config
from monitor.core.models import Fetched, PollOutcome
from monitor.delivery.routing import Router
from monitor.poll.news import match_items
from monitor.rules.matcher import Matcher
from monitor.sources.feed import FeedKind
from monitor.sources.normalize import normalize
from monitor.store import open_engine
from monitor.store.sources import SourceStore
from monitor.store.writer import PollWriter

GOAL = 10_000  # items a second of CPU, end to end
CONCURRENT = 100  # polls whose records are written together (the cold poll's connections)


async def steps(feeds: int, items: int, folder: Path) -> Row:
    """CPU seconds of each step over ``feeds`` mixed documents, and items/s end to end."""
    config: Config = load_config(folder / "cores-1" / "monitor.yaml")
    work = folder / "steps"
    work.mkdir()
    config = config.model_copy(update={"storage": f"sqlite:///{work}/monitor.db"})
    now = datetime.now(UTC)
    documents = [
        Fetched(f"https://site{n}.ma/feed", 200, *mix.document(n, items - 1, items, now), None,
                None)
        for n in range(feeds)
    ]  # fmt: skip
    kind, spent = FeedKind(), dict.fromkeys(("parse", "normalise", "match", "store"), 0.0)
    tick = time.process_time()
    parsed = [kind.parse(doc, config.limits.max_items) for doc in documents]
    spent["parse"], tick = time.process_time() - tick, time.process_time()
    normal = [normalize(f"f{n}", p.entries, now)[0] for n, p in enumerate(parsed)]
    spent["normalise"], tick = time.process_time() - tick, time.process_time()
    matcher = Matcher(config.rules, config.source_tags())
    router = Router(config.subscribers, set())
    outcomes = []
    for n, found in enumerate(normal):
        matches = {item.key: tuple(m) for item, m in match_items(matcher, found)}
        outcomes.append(PollOutcome(
            f"f{n}", now, "ok", 200, None, None, hashlib.sha256(documents[n].body).hexdigest(),
            now + timedelta(hours=1), None, tuple(found), matches, tuple(router.route(matches)),
        ))  # fmt: skip
    spent["match"] = time.process_time() - tick
    engine = await open_engine(config.storage)
    try:
        store = SourceStore(engine)
        await store.sync(config, now)
        writer = PollWriter(store)
        tick = time.process_time()  # (SQLite's own work runs in threads: counted, same process)
        for at in range(0, len(outcomes), CONCURRENT):  # as polls in flight end together
            await asyncio.gather(*map(writer.write, outcomes[at : at + CONCURRENT]))
        spent["store"] = time.process_time() - tick
    finally:
        await engine.dispose()
    count = sum(len(found) for found in normal)
    total = sum(spent.values())
    alerted = sum(1 for o in outcomes for key in o.matches)
    return Row(
        f"items parsed, normalised, matched, stored ≥ {GOAL:,}/s of CPU (one core)",
        f"{count / total:,.0f}/s: {count:,} items ({alerted:,} matching) in {total:.2f} s; "
        + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in spent.items()),
        "", count / total >= GOAL and count == feeds * items,
    )  # fmt: skip
