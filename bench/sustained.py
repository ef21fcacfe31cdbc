"""The sustained scenario of bench/scale.py (issue 7): ``monitor run`` keeping thousands of feeds
on a short interval, a share of them publishing, for minutes.

The daemon starts on a new store and polls every feed once (the backlog, not measured); after
one more interval the window opens. Over the window the feed server notes every request:

- rate: requests per second (offered: feeds / interval);
- lag: how late each poll came, from the gaps between a feed's requests (a gap longer than
  the interval is that much late), and from the window's edges (a feed not asked for within
  an interval of the window opening, or before it closes, is late by the excess); its p99 and
  maximum, and the feeds that were never polled in the window;
- CPU (cores) of the daemon and its parse workers over the window, and their peak resident
  memory, sampled every second;
- items: after the daemon stops, the items of every publishing feed in the store against
  those it carried at the daemon's first request and published until its last request of the
  window (none may be missing).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench import procfs
from bench.daemon import failed, start_daemon
from bench.scale_server import ScaleFeeds

MAX_LAG = 2.0  # seconds: the p99 of lag allowed


@dataclass
class Sustained:
    seconds: float  # the window
    offered: float  # polls per second the configuration asks for
    rate: float  # polls per second made
    gap_mean: float  # between a feed's polls (the interval, when the rhythm is kept)
    lag_mean: float
    lag_p99: float
    lag_max: float
    unpolled: int  # feeds never polled in the window
    cores: float
    peak_rss: int  # bytes
    missing: int  # published items not in the store
    published: int  # items the publishing feeds showed the daemon in all

    @property
    def kept_up(self) -> bool:
        """Every feed on time: the rate offered (a window cuts a poll at each end: 1 %),
        lag p99 within MAX_LAG, no feed left out, nothing published missing."""
        return (
            self.rate >= 0.99 * self.offered
            and self.lag_p99 <= MAX_LAG
            and self.unpolled == 0
            and self.missing == 0
        )


def lags(times: list[float], start: float, end: float, interval: float) -> list[float]:
    """How late each poll of one feed was, from its request times within [start, end]."""
    if not times:
        return [end - start - interval]
    marks = [start, *times, end]
    return [max(0.0, b - a - interval) for a, b in itertools.pairwise(marks)]


def stored_items(database: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        query = "SELECT source, count(*) FROM items WHERE key NOT LIKE 'health:%' GROUP BY source"
        return dict(db.execute(query).fetchall())


async def run(server: ScaleFeeds, config: Path, minutes: float) -> Sustained:
    """``config`` runs ``monitor run`` on ``server``'s feeds (its interval: server.interval)."""
    server.reset()
    process = await start_daemon(config, once=False)
    try:
        while len(server.stats.polled) < server.feeds:  # the backlog of first polls
            if process.returncode is not None:
                raise failed(config, process.returncode)
            await asyncio.sleep(0.5)
        # what each feed carried when the daemon first saw it (the backlog starts late)
        first = {n: server.version(n, times[0]) for n, times in server.stats.polled.items()}
        await asyncio.sleep(server.interval)
        server.reset()
        opened = time.monotonic()
        pids = procfs.tree(process.pid)
        cpu_before, peak = procfs.cpu_seconds(pids), 0
        while time.monotonic() - opened < minutes * 60:
            if process.returncode is not None:
                raise failed(config, process.returncode)
            pids = procfs.tree(process.pid)
            peak = max(peak, procfs.rss_kb(pids) * 1024)
            await asyncio.sleep(1.0)
        closed = time.monotonic()
        cpu = procfs.cpu_seconds(procfs.tree(process.pid)) - cpu_before
        stats = server.stats
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 60)
    window = closed - opened
    made = sum(1 for times in stats.polled.values() for t in times if t <= closed)
    late = [
        lag
        for n in range(server.feeds)
        for lag in lags(
            [t for t in stats.polled.get(n, []) if t <= closed], opened, closed, server.interval
        )
    ]
    stored = stored_items(config.parent / "monitor.db")
    publishing = [n for n in range(server.feeds) if server.every and n % server.every == 0]
    # what each feed carried at its last request that had time to be recorded before the stop
    settled = closed - 2.0
    last = {
        n: max((t for t in stats.polled.get(n, []) if t <= settled), default=0.0)
        for n in publishing
    }
    carried = {
        n: server.items + 2 * (server.version(n, at) - first[n]) for n, at in last.items() if at
    }
    missing = sum(max(0, count - stored.get(f"f{n}", 0)) for n, count in carried.items())
    return Sustained(
        seconds=window,
        offered=server.feeds / server.interval,
        rate=made / window,
        gap_mean=statistics.fmean(
            b - a for times in stats.polled.values() for a, b in itertools.pairwise(times)
        ),
        lag_mean=statistics.fmean(late),
        lag_p99=statistics.quantiles(late, n=100)[98] if len(late) > 1 else late[0],
        lag_max=max(late),
        unpolled=sum(1 for n in range(server.feeds) if not stats.polled.get(n)),
        cores=cpu / window,
        peak_rss=peak,
        missing=missing,
        published=sum(carried.values()),
    )
