"""Web app benchmark (issue 23): ``/api/items?q=`` and the overview over a big store.

    python -m bench.web [--items 1000000] [--sources N] [--store sqlite postgresql]
                        [--requests 30] [--keep DIR]

Fills a store quickly (bulk inserts, not through the daemon: the words indexed exactly as the
poll path indexes them, monitor.store.search.index_words) with ``--items`` items from
``--sources`` sources (default one per hundred items, at most 10,000), seen over the last 30
days, ids growing with time: headlines made of French, English and Arabic words of the
project's test data, ``Maroc`` in a third of them, the phrase ``centres d'appels`` and
``externalisation`` in one in a hundred (which the rule ``centres`` matched), ``zygomorphe`` in
one in 100,000 (at least one). SQLite: a file in a temporary folder (or ``--keep DIR``, reused
when it holds as many items). PostgreSQL: a database of its own, ``monitor_bench_web``, made
with ``CREATE DATABASE`` on the server of ``MONITOR_TEST_POSTGRES`` (default the trust-auth one
on 127.0.0.1:5432) and dropped at the end (kept with ``--keep``).

Then serves the real app (the daemon's WebServer and AppRoutes, on 127.0.0.1), signs in, and
times ``--requests`` requests of each case one after the other with the session cookie, after
three unmeasured ones: a search for a rare word, ``Maroc``, a phrase, a prefix, each alone, with
a source filter and with a date filter (the last 3 days), first page of 50 newest first; and
the overview ``/``. Prints p50, p95 and max per case, the goal (p95 ≤ 100 ms for items,
≤ 200 ms for the overview), the cores it ran on (``nproc``) and the CPU model. Exit status 0
when every goal holds, else 1. Asserts nothing on time otherwise: not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import yaml
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.store import open_engine, transaction
from monitor.store.search import index_words
from monitor.store.standing import Unsubscription
from monitor.store.tables import items, matches, sources
from monitor.web.pages import AppRoutes
from monitor.web.server import WebServer
from monitor.web.session import load_web_key
from monitor.web.unsubscribe import TokenClaim

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
ADMIN = os.environ.get("MONITOR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "monitor_bench_web"
USER, PASSWORD = "bench", "bench password"
ROWS = 10_000  # items per insert batch
GOALS = {"items": 0.100, "overview": 0.200}  # p95, seconds
RARE, PHRASE, PREFIX = "zygomorphe", "centres d'appels", "externalisation"
NOW = datetime.now(UTC).replace(microsecond=0)


def vocabulary() -> list[str]:
    """Words of the project's French, English and Arabic headlines (test data), not Maroc's."""
    texts: list[str] = []
    for name in ("fr-news-labelled.yaml", "ar-news-labelled.yaml", "headlines-languages.yaml"):
        loaded = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        entries = loaded.get("items", []) if isinstance(loaded, dict) else loaded
        for entry in entries or []:
            if isinstance(entry, dict):
                texts += [str(entry.get(k, "")) for k in ("title", "text", "summary")]
    punctuation = ".,:;!?«»\"()[]'\u2019"
    words = {w.strip(punctuation) for text in texts for w in text.split()}
    banned = ("maroc", "المغرب", RARE, "centre", "externalis")
    return sorted(w for w in words if w and not any(b in w.lower() for b in banned))


@dataclass(frozen=True, slots=True)
class Shape:
    items: int
    sources: int

    def source(self, n: int) -> str:
        return f"src{n % self.sources:05d}"

    def seen(self, n: int) -> datetime:
        return NOW - timedelta(days=30) + timedelta(seconds=30 * 86400 * n / self.items)


def headline(n: int, words: Sequence[str], rng: random.Random, shape: Shape) -> tuple[str, str]:
    title = rng.sample(words, rng.randint(6, 11))
    summary = rng.sample(words, rng.randint(14, 24))
    if n % 3 == 0:
        title.insert(rng.randint(0, len(title)), rng.choice(("au Maroc", "Maroc", "المغرب")))
    if n % 100 == 7:
        title.insert(rng.randint(0, len(title)), PHRASE)
        summary.append(PREFIX)
    if n % 100_000 == 50 or (shape.items < 100_000 and n == shape.items // 2):
        summary.insert(3, RARE)
    return " ".join(title), " ".join(summary)


async def fill(engine: AsyncEngine, shape: Shape) -> float:
    """Bulk-insert the sources, the items (with their indexed words) and the rule's matches;
    returns the seconds it took."""
    started = time.perf_counter()
    words, rng, dialect = vocabulary(), random.Random(23), engine.dialect.name
    source_rows = [
        {"name": f"src{n:05d}", "url": f"https://s{n}.example/feed", "config_key": f"s{n}",
         "first_poll_at": NOW - timedelta(days=40), "last_poll_at": NOW - timedelta(minutes=5),
         "next_due_at": NOW + timedelta(minutes=10), "last_result": "ok", "health": "ok"}
        for n in range(shape.sources)
    ]  # fmt: skip
    async with transaction(engine) as conn:
        await conn.execute(sources.insert(), source_rows)
    for first in range(0, shape.items, ROWS):
        rows, alerted = [], []
        for n in range(first, min(first + ROWS, shape.items)):
            title, summary = headline(n, words, rng, shape)
            title_words, text_words = index_words(dialect, title, summary, "")
            key = f"k{n}"
            rows.append({
                "source": shape.source(n), "key": key, "article": f"https://a.example/{n}",
                "link": f"https://a.example/{n}", "title": title, "summary": summary,
                "content": None, "published": shape.seen(n), "seen_at": shape.seen(n),
                "title_words": title_words, "text_words": text_words,
            })  # fmt: skip
            if n % 100 == 7:
                alerted.append(n)
        async with transaction(engine) as conn:
            await conn.execute(items.insert(), rows)
            if alerted:
                ids = dict(
                    (await conn.execute(
                        select(items.c.key, items.c.id).where(
                            items.c.key.in_([f"k{n}" for n in alerted])
                        )
                    )).all()
                )  # fmt: skip
                await conn.execute(
                    matches.insert(),
                    [{"item_id": ids[f"k{n}"], "rule": "centres", "terms": [PHRASE]}
                     for n in alerted],
                )  # fmt: skip
        done = min(first + ROWS, shape.items)
        if done % 100_000 == 0 or done == shape.items:
            print(f"  {done:,} items ({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    if dialect == "postgresql":
        async with engine.connect() as conn:
            await conn.execute(func.now().select())  # (a connection; ANALYZE needs no transaction)
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()
    return time.perf_counter() - started


def config(shape: Shape) -> Config:
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return Config.model_validate({
        "sources": [{"name": f"src{n:05d}", "url": f"https://s{n}.example/feed",
                     "tags": ["maroc"] if n % 100 == 0 else []} for n in range(shape.sources)],
        "rules": [{"name": "centres", "any": [PHRASE]}],
        "subscribers": [{"name": "s", "console": True}],
        "http": {"listen": "127.0.0.1:0",
                 "app": {"users": [{"name": USER, "password": hasher.hash(PASSWORD)}]}},
    })  # fmt: skip


def cases(shape: Shape) -> list[tuple[str, str, str]]:
    """(name, path, goal kind) of each timed request."""
    since = (NOW - timedelta(days=3)).date().isoformat()
    found: list[tuple[str, str, str]] = []
    for label, q in (("rare word", RARE), ("Maroc", "maroc"), ("phrase", f'"{PHRASE}"'),
                     ("prefix", "externalis*")):  # fmt: skip
        for extra, suffix in (("", ""), (" + source", f"&source={shape.source(7)}"),
                              (" + date", f"&since={since}")):  # fmt: skip
            found.append((label + extra, f"/api/items?q={q}{suffix}", "items"))
    found.append(("overview /", "/", "overview"))
    return found


async def log_in(client: aiohttp.ClientSession) -> None:
    async with client.get("/login") as form:
        page = await form.text()
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    data = {"csrf": token, "name": USER, "password": PASSWORD, "next": "/"}
    async with client.post("/login", data=data, allow_redirects=False) as answer:
        if answer.status != 303:
            raise SystemExit(f"could not sign in: {answer.status}")


async def measure(engine: AsyncEngine, shape: Shape, requests: int) -> list[tuple[str, ...]]:
    holder = [config(shape)]
    routes = AppRoutes(lambda: holder[0], engine, await load_web_key(engine),
                       lambda: datetime.now(UTC))  # fmt: skip

    async def unsubscribe(claim: TokenClaim) -> Unsubscription:
        return Unsubscription.UNKNOWN

    server = WebServer(b"k" * 32, unsubscribe, lambda: datetime.now(UTC), "127.0.0.1", 0,
                       pages=routes)  # fmt: skip
    port = await server.start()
    rows: list[tuple[str, ...]] = []
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as client:
            await log_in(client)
            for name, path, kind in cases(shape):
                times, count = [], 0
                for n in range(requests + 3):
                    started = time.perf_counter()
                    async with client.get(path) as answer:
                        body = await answer.read()
                        if answer.status != 200:
                            raise SystemExit(f"{path}: {answer.status} {body[:200]!r}")
                    if n >= 3:
                        times.append(time.perf_counter() - started)
                    if kind == "items":
                        count = body.count(b'"id":')
                times.sort()
                p95 = times[max(0, round(0.95 * len(times)) - 1)]
                ok = "ok" if p95 <= GOALS[kind] else "FAIL"
                shown = [statistics.median(times), p95, times[-1], GOALS[kind]]
                rows.append((name, str(count) if kind == "items" else "-",
                             *(f"{t * 1000:.1f}" for t in shown), ok))  # fmt: skip
    finally:
        await server.close()
    return rows


@contextlib.asynccontextmanager
async def postgres_store(keep: bool) -> AsyncIterator[str]:
    admin = await asyncpg.connect(ADMIN, timeout=10)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    try:
        yield f"{ADMIN.rsplit('/', 1)[0]}/{DATABASE}"
    finally:
        if not keep:
            admin = await asyncpg.connect(ADMIN, timeout=10)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            finally:
                await admin.close()


async def run_store(
    backend: str, shape: Shape, requests: int, keep: Path | None
) -> list[tuple[str, ...]]:
    async with contextlib.AsyncExitStack() as stack:
        if backend == "postgresql":
            storage = await stack.enter_async_context(postgres_store(keep is not None))
        else:
            folder = keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
            folder.mkdir(parents=True, exist_ok=True)
            storage = f"sqlite:///{folder}/bench-web.db"
        engine = await open_engine(storage)
        try:
            async with engine.connect() as conn:
                stored = await conn.scalar(select(func.count()).select_from(items))
            if stored and stored != shape.items:
                raise SystemExit(f"{storage} holds {stored} items, not {shape.items}: remove it")
            if not stored:
                print(f"{backend}: filling {shape.items:,} items from {shape.sources:,} sources",
                      file=sys.stderr)  # fmt: skip
                seconds = await fill(engine, shape)
                print(f"{backend}: filled in {seconds:.0f}s", file=sys.stderr)
            return [(backend, *row) for row in await measure(engine, shape, requests)]
        finally:
            await engine.dispose()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def table(rows: Sequence[tuple[str, ...]]) -> str:
    head = ("store", "case", "items", "p50 ms", "p95 ms", "max ms", "goal ms", "")
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in (head, *rows))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--sources", type=int, default=0, help="default: items / 100, ≤ 10,000")
    parser.add_argument("--store", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the stores; SQLite's here")
    args = parser.parse_args(argv)
    shape = Shape(args.items, args.sources or max(1, min(10_000, args.items // 100)))
    rows: list[tuple[str, ...]] = []
    for backend in args.store:
        rows += asyncio.run(run_store(backend, shape, args.requests, args.keep))
    print(f"{shape.items:,} items, {shape.sources:,} sources; {os.cpu_count()} cores "
          f"(nproc {len(os.sched_getaffinity(0))}), {cpu_model()}")  # fmt: skip
    print(table(rows))
    return 0 if all(row[-1] == "ok" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
