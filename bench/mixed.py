"""Issue 19 §3: the daemon on feeds as people have them (bench/mix.py: 55 % RSS 2.0 with
namespaces, 30 % Atom 1.0, 10 % RSS 1.0, 5 % JSON Feed), as whole processes pinned to cores.

    python -m bench.mixed [--feeds 1000] [--items 20] [--hosts 100] [--latency 0.1]
                          [--emails 100] [--cores 1 2] [--no-urlwatch]

For each core count (1: the daemon on core 0, this process, which serves the feeds and the
SMTP server, on core 1; 2: the daemon on both, sharing them with this process):

- cold first poll: ``monitor run --once`` on a new SQLite store, ``--feeds`` feeds of
  ``--items`` items, every item new and stored, matched against the user's rules
  (config/monitor.yaml) and 100 generated ones (about one item in six matches); ``--emails``
  email subscribers, each following one of the rules that match (in turn: 29 rules, 65 to 862
  items each), get what the first poll owes them in one digest each (immediate,
  ``max_items: 1000``), sent before the daemon exits. Figure:
  seconds from the process's start to its exit, beside the bare fetch (bench/scale.py's aiohttp
  script, its process too, start-up included). Goals: ≤ 3x on one core, ≤ 2x on two.
- unchanged poll: the same again, every feed answering 304 to its ETag. Goals: ≤ 1.3x the bare
  fetch sending the same ETags, and the daemon's CPU (with its parse workers) ≤ 2x the bare
  fetch's.
- urlwatch (one core, when it can be installed: ``bench/.urlwatch`` is a venv of its own made
  at the first run): ``urlwatch`` on the same URLs, first run; goal: the daemon's cold poll ≥ 2x
  faster.

Then, in this process, the four steps an item goes through, on the same documents: parse (the
parse worker's FeedKind), normalise, match (100 generated rules and the user's, routed to the
subscribers) and store (the daemon's PollWriter on SQLite): CPU seconds each and items per
second of CPU end to end; goal ≥ 10,000 items/s.

Prints a table (goal, figure, baseline, pass/fail); exit status 0 when every goal holds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench import mix
from bench.delivery import Counting, Mailbox, Received
from bench.matching import make_rules, user_rules
from bench.scale import CONNECTIONS, Row, table
from bench.scale_server import ScaleFeeds

TIMEOUT = 900.0
URLWATCH = Path(__file__).parent / ".urlwatch"  # its own venv (git-ignored)


@dataclass(frozen=True)
class Run:
    seconds: float  # from the process's start to its exit
    cpu: float  # CPU seconds of the process and its children
    status: int


async def timed(command: Sequence[str], cpus: set[int], cwd: Path, log: Path) -> Run:
    """Run ``command`` pinned to ``cpus``: wall seconds from start to exit, CPU seconds."""
    before = os.times()
    start = time.monotonic()
    with log.open("ab") as err:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=cwd, stdout=asyncio.subprocess.DEVNULL, stderr=err,
            preexec_fn=lambda: os.sched_setaffinity(0, cpus),
        )  # fmt: skip
        status = await asyncio.wait_for(process.wait(), TIMEOUT)
    seconds = time.monotonic() - start
    after = os.times()
    cpu = (after.children_user + after.children_system) - (
        before.children_user + before.children_system
    )
    return Run(seconds, cpu, status)


async def bare(folder: Path, urls: Sequence[str], etags: Sequence[str | None],
               cpus: set[int]) -> Run:  # fmt: skip
    listing = folder / "urls.txt"
    listing.write_text("".join(f"{u} {e or ''}\n" for u, e in zip(urls, etags, strict=True)))
    command = [sys.executable, "-m", "bench.scale", "--fetch", str(listing)]
    return await timed(command, cpus, Path.cwd(), folder / "bare.log")


def rules() -> list[dict[str, Any]]:
    """The user's rules (config/monitor.yaml) and 100 generated ones, without scopes."""
    found = [*user_rules(), *make_rules(100)]
    return [
        {k: v for k, v in rule.model_dump(mode="json", exclude_defaults=True).items()
         if k not in ("sources", "tags")}
        for rule in found
    ]  # fmt: skip


def matched(feeds: int, items: int) -> list[str]:
    """The rules that match at least one item of the mix, most matches first."""
    from monitor.config.rules import RuleConfig
    from monitor.core.models import Fetched
    from monitor.rules.matcher import Matcher
    from monitor.sources.feed import FeedKind
    from monitor.sources.normalize import normalize

    matcher = Matcher([RuleConfig.model_validate(rule) for rule in rules()], {})
    now, counts = datetime.now(UTC), Counter[str]()
    for n in range(feeds):
        body, content_type = mix.document(n, items - 1, items, now)
        fetched = Fetched(f"https://site{n}.ma/", 200, body, content_type, None, None)
        for item in normalize(f"f{n}", FeedKind().parse(fetched).entries, now)[0]:
            counts.update(match.rule for match in matcher.match(item))
    return [name for name, _ in counts.most_common()]


def write_config(folder: Path, server: ScaleFeeds, feeds: int, emails: int, smtp: int) -> Path:
    found = matched(feeds, server.items)
    subscribers = [  # each follows one rule that matches (in turn), and gets what the first
        # poll owes them in one digest
        {"name": f"s{n}", "email": f"s{n}@example.org", "max_items": 1000,
         "rules": [found[n % len(found)]]}
        for n in range(emails)
    ]  # fmt: skip
    config = {
        "storage": f"sqlite:///{folder}/monitor.db",
        "network": {"allow": ["127.0.0.0/8"], "timeout": "30s",
                    "concurrency": CONNECTIONS, "per_host": 10},
        "defaults": {"interval": "1h", "backfill": "30d"},
        "smtp": {"host": "127.0.0.1", "port": smtp, "security": "none",
                 "from": "Veille <veille@example.org>"},
        "sources": [{"name": f"f{n}", "url": server.url(n)} for n in range(feeds)],
        "rules": rules(),
        "subscribers": subscribers,
    }  # fmt: skip
    path = folder / "monitor.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


def daemon(config: Path) -> list[str]:
    return [sys.executable, "-m", "monitor", "run", "-c", str(config), "--once",
            "--log-level", "ERROR"]  # fmt: skip


def stored(folder: Path) -> tuple[int, int]:
    """Items in the store, and outbox rows not sent."""
    with sqlite3.connect(folder / "monitor.db") as db:
        (items,) = db.execute("SELECT count(*) FROM items").fetchone()
        (unsent,) = db.execute("SELECT count(*) FROM outbox WHERE state != 'sent'").fetchone()
    return int(items), int(unsent)


async def cores(args: argparse.Namespace, cpus: set[int], folder: Path) -> list[Row]:
    """The cold and unchanged polls, and urlwatch, with the daemon on ``cpus``."""
    label = f"{len(cpus)} core{'s' if len(cpus) > 1 else ''}"
    mine = {1} if cpus == {0} else set(range(os.cpu_count() or 1))
    os.sched_setaffinity(0, mine)
    server = ScaleFeeds(args.feeds, hosts=args.hosts, items=args.items, latency=args.latency,
                        writer=mix.document)  # fmt: skip
    await server.start()
    seen = Received()
    loop = asyncio.get_running_loop()
    mailbox = Mailbox(seen)
    smtp = await loop.create_server(lambda: Counting(mailbox, seen), "127.0.0.1", 0)
    try:
        work = folder / f"cores-{len(cpus)}"
        work.mkdir()
        urls = [server.url(n) for n in range(args.feeds)]
        config = write_config(work, server, args.feeds, args.emails,
                              smtp.sockets[0].getsockname()[1])  # fmt: skip
        base = await bare(work, urls, [None] * args.feeds, cpus)
        cold = await timed(daemon(config), cpus, work, work / "daemon.log")
        items, unsent = stored(work)
        mails = sum(seen.by_subscriber.values())
        limit = 3 if len(cpus) == 1 else 2
        rows = [Row(
            f"{label}: cold first poll of {args.feeds:,} mixed feeds ≤ {limit}x bare",
            f"{cold.seconds:.2f} s ({cold.seconds / base.seconds:.1f}x; CPU {cold.cpu:.1f} s; "
            f"{items:,} items stored, {mails} emails to {len(seen.by_subscriber)} subscribers, "
            f"{unsent} unsent; exit {cold.status})",
            f"bare fetch {base.seconds:.2f} s (CPU {base.cpu:.2f} s)",
            cold.status == 0 and unsent == 0 and items == args.feeds * args.items
            and cold.seconds <= limit * base.seconds,
        )]  # fmt: skip
        etags = [server.etag(n, server.version(n)) for n in range(args.feeds)]
        base_304 = await bare(work, urls, etags, cpus)
        server.reset()
        again = await timed(daemon(config), cpus, work, work / "daemon.log")
        rows.append(Row(
            f"{label}: unchanged poll ≤ 1.3x bare, CPU ≤ 2x bare's",
            f"{again.seconds:.2f} s ({again.seconds / base_304.seconds:.1f}x), CPU "
            f"{again.cpu / args.feeds * 1000:.2f} ms a feed "
            f"({again.cpu / max(base_304.cpu, 1e-9):.1f}x); "
            f"{server.stats.not_modified:,} answered 304; exit {again.status}",
            f"bare fetch {base_304.seconds:.2f} s, CPU {base_304.cpu / args.feeds * 1000:.2f} ms",
            again.status == 0 and again.seconds <= 1.3 * base_304.seconds
            and again.cpu <= 2 * base_304.cpu,
        ))  # fmt: skip
        if len(cpus) == 1 and args.urlwatch:
            rows.append(await urlwatch(work, urls, cpus, cold))
        return rows
    finally:
        smtp.close()
        await server.close()


def urlwatch_venv() -> Path | None:
    """bench/.urlwatch/bin/urlwatch, installed the first time (None when pip cannot)."""
    program = URLWATCH / "bin" / "urlwatch"
    if not program.exists():
        made = subprocess.run(
            f"{sys.executable} -m venv {URLWATCH} && {URLWATCH}/bin/pip install -q urlwatch",
            shell=True, check=False,
        )  # fmt: skip
        if made.returncode != 0:
            return None
    return program


async def urlwatch(work: Path, urls: Sequence[str], cpus: set[int], cold: Run) -> Row:
    program = await asyncio.to_thread(urlwatch_venv)
    if program is None:
        return Row("1 core: cold poll ≥ 2x faster than urlwatch", "urlwatch not installed",
                   "", False)  # fmt: skip
    folder = work / "urlwatch"
    folder.mkdir()
    jobs = folder / "urls.yaml"
    jobs.write_text("---\n".join(yaml.safe_dump({"url": url}) for url in urls))
    config = folder / "urlwatch.yaml"
    command = [
        str(program), "--urls", str(jobs), "--config", str(config),
        "--cache", str(folder / "cache.db"), "--hooks", str(folder / "hooks.py"),
    ]  # fmt: skip
    # a first run writes the default configuration; only then can the report be quietened
    await timed([*command, "--list"], cpus, folder, folder / "log")
    settings = yaml.safe_load(config.read_text())
    settings["report"]["stdout"]["enabled"] = True
    config.write_text(yaml.safe_dump(settings))
    run = await timed(command, cpus, folder, folder / "log")
    return Row(
        "1 core: cold poll ≥ 2x faster than urlwatch",
        f"urlwatch {run.seconds:.2f} s (CPU {run.cpu:.1f} s; exit {run.status}): "
        f"{run.seconds / cold.seconds:.1f}x the daemon's {cold.seconds:.2f} s",
        "", run.status == 0 and run.seconds >= 2 * cold.seconds,
    )  # fmt: skip


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return "unknown model"


async def main(args: argparse.Namespace) -> int:
    from bench.mixsteps import steps  # (imports the daemon's parts: after the child runs)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        for count in args.cores:
            rows += await cores(args, set(range(count)), Path(scratch))
        os.sched_setaffinity(0, {0})
        rows.append(await steps(args.feeds, args.items, Path(scratch)))
    share = ", ".join(f"{k} {v:.0%}" for k, v in mix.shares().items())
    print(f"{args.feeds:,} feeds of {args.items} items ({share}); {args.hosts} host addresses, "
          f"{args.latency * 1000:.0f} ms a request; {os.cpu_count()} cores "
          f"({cpu_model()})")  # fmt: skip
    return table(rows)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--emails", type=int, default=100)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2], choices=[1, 2])
    parser.add_argument("--no-urlwatch", dest="urlwatch", action="store_false")
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse())))
