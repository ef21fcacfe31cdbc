"""The daemon as a real process: SIGHUP reloads, SIGTERM drains, kill -9 loses nothing."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.peers import FeedServer, Resource, WebhookReceiver, rss

CONFIG = """\
storage: sqlite:///{db}
network:
  allow: [127.0.0.0/8]
  timeout: 20s
sources:
{sources}
rules:
  - name: ia
    any: ["IA"]
subscribers:
  - name: ops
    webhook: {hook}/hook
    digest: immediate
"""


def write_config(
    path: Path, feeds: FeedServer, receiver: WebhookReceiver, names: list[str], extra: str = ""
) -> None:
    sources = "\n".join(f"  - name: {n}\n    url: {feeds.url}/{n}" for n in names)
    db = path.parent / "m.db"
    path.write_text(CONFIG.format(db=db, sources=sources, hook=receiver.url) + extra)


async def start(path: Path, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "run",
        "-c",
        str(path),
        *args,
        cwd=path.parent,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_until(process: asyncio.subprocess.Process, *needles: str) -> str:
    """Read the daemon's log until a line holds every needle; returns that line."""
    assert process.stderr is not None
    async with asyncio.timeout(30):
        while True:
            line = (await process.stderr.readline()).decode()
            assert line, "the daemon exited early"
            if all(n in line for n in needles):
                return line


def feed(names: list[str]) -> Resource:
    now = datetime.now(UTC)
    return Resource(
        rss(
            [
                {"title": f"L'IA : {n}", "link": f"https://x.ma/{n}", "guid": n, "published": now}
                for n in names
            ]
        )
    )


@pytest.mark.slow
async def test_sighup_swaps_in_a_valid_config_and_keeps_the_old_on_errors(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    feeds.resources["/a"] = feed(["a1"])
    feeds.resources["/b"] = feed(["b1"])
    path = tmp_path / "monitor.yaml"
    write_config(path, feeds, receiver, ["a"])
    process = await start(path)
    try:
        await read_until(process, "poll source=a", "result=ok")
        write_config(path, feeds, receiver, ["a", "b"])
        process.send_signal(signal.SIGHUP)
        await read_until(process, "info reload", "sources=2")
        await read_until(process, "poll source=b", "result=ok")
        path.write_text(path.read_text() + "colour: blue\nsmtp: {host: ${NO_SUCH_VAR_X}}\n")
        process.send_signal(signal.SIGHUP)
        await read_until(process, "reload-refused", "problems=")
        line = await read_until(process, "config-error")
        assert "monitor.yaml:" in line
        assert process.returncode is None  # still running on the old configuration
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    delivered = {i["link"] for r in receiver.accepted() for i in json.loads(r.body)["items"]}
    assert delivered == {"https://x.ma/a1", "https://x.ma/b1"}


@pytest.mark.slow
async def test_sigterm_during_a_poll_and_a_send_exits_and_the_send_resumes(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    feeds.resources["/a"] = feed(["a1"])
    feeds.resources["/hang"] = feed(["h1"])
    feeds.gates["/hang"] = asyncio.Event()  # never answers during this run
    receiver.gate = asyncio.Event()  # holds the webhook request
    path = tmp_path / "monitor.yaml"
    write_config(path, feeds, receiver, ["a", "hang"])
    process = await start(path)
    async with asyncio.timeout(20):
        await receiver.wait_for_requests(1)
    loop = asyncio.get_running_loop()
    stopped = loop.time()
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 10) == 0
    assert loop.time() - stopped < 10
    first_id = receiver.requests[0].headers["webhook-id"]
    receiver.gate.set()
    feeds.gates["/hang"].set()
    again = await start(path, "--once")
    assert await asyncio.wait_for(again.wait(), 30) == 0
    ids = [r.headers["webhook-id"] for r in receiver.accepted()]
    assert first_id in ids  # the interrupted digest went out again under its own id
    links = [i["link"] for r in receiver.accepted() for i in json.loads(r.body)["items"]]
    assert sorted(set(links)) == ["https://x.ma/a1", "https://x.ma/h1"]


@pytest.mark.slow
async def test_kill_9_at_random_moments_loses_nothing_and_never_renames_a_digest(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    names = ["s1", "s2", "s3"]
    path = tmp_path / "monitor.yaml"
    write_config(path, feeds, receiver, names)
    rng = random.Random(20261126)
    expected: set[str] = set()
    published: dict[str, list[str]] = {n: [] for n in names}
    for round_ in range(6):
        for n in names:
            published[n] += [f"{n}-{round_}-{i}" for i in range(3)]
            feeds.resources[f"/{n}"] = feed(published[n])
            expected |= {f"https://x.ma/{n}-{round_}-{i}" for i in range(3)}
        process = await start(path, "--once")
        await asyncio.sleep(rng.uniform(0.0, 2.5))
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()
    final = await start(path, "--once")
    assert await asyncio.wait_for(final.wait(), 60) == 0

    digests_of: dict[str, set[str]] = defaultdict(set)
    for request in receiver.accepted():
        body = json.loads(request.body)
        assert request.headers["webhook-id"] == body["id"]
        for item in body["items"]:
            digests_of[item["link"]].add(body["id"])
    assert set(digests_of) == expected
    assert {link: ids for link, ids in digests_of.items() if len(ids) > 1} == {}
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        pending = db.execute("SELECT count(*) FROM outbox WHERE state != 'sent'").fetchone()
        assert pending == (0,)
