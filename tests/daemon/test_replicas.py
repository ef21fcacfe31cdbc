"""Three replica processes over one PostgreSQL store share 200 sources and one immediate
webhook subscriber; one is killed with -9 in the middle of a poll cycle (issue 6). Every source
is polled within an interval plus a lease expiry, none twice in one interval, every alert is
delivered, and no article goes out under two digest ids."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.poll.claims import POLL_TICK
from tests.support.databases import postgres_database
from tests.support.peers import FeedServer, Resource, WebhookReceiver, rss

SOURCES = 200
INTERVAL = 10.0  # seconds: the shortest interval the configuration allows
LEASE = 6.0
KILL_AT = 14.0  # during the second poll cycle, once new items are out
LAST_PUBLISHED = KILL_AT + 2.0
# seconds of replica time in all: after the last items, time for every source to be polled
# again (an interval, a dead replica's lease, two ticks) and its alerts sent
RUN = LAST_PUBLISHED + INTERVAL + LEASE + 2 * POLL_TICK.total_seconds() + 8.0


def config(storage: str, feeds: FeedServer, receiver: WebhookReceiver) -> str:
    sources = "".join(f"  - name: s{n:03}\n    url: {feeds.url}/s{n:03}\n" for n in range(SOURCES))
    return (
        f"storage: {storage}\n"
        "network: {allow: [127.0.0.0/8], timeout: 2s, concurrency: 10, per_host: 10}\n"
        "limits: {parse_timeout: 2s}\n"
        f"cluster: {{lease: {int(LEASE)}s}}\n"
        f"defaults: {{interval: {int(INTERVAL)}s, backfill: 24h}}\n"
        f"sources:\n{sources}"
        "rules:\n  - name: ia\n    any: [IA]\n"
        f"subscribers:\n  - name: ops\n    webhook: {receiver.url}/hook\n    digest: immediate\n"
    )


def publish(feeds: FeedServer, round_: int) -> set[str]:
    """Each source gets its item of this round (and keeps the earlier ones); the links."""
    now = datetime.now(UTC)
    links = set()
    for n in range(SOURCES):
        items = [
            {
                "guid": f"s{n:03}-{r}",
                "title": f"IA, épisode {r} de la source {n}",
                "link": f"https://x.ma/s{n:03}/{r}",
                "published": now - timedelta(minutes=5),
            }
            for r in range(round_ + 1)
        ]
        feeds.resources[f"/s{n:03}"] = Resource(rss(items))
        links.add(f"https://x.ma/s{n:03}/{round_}")
    return links


async def replica(path: Path, index: int) -> asyncio.subprocess.Process:
    with (path.parent / f"replica{index}.log").open("wb") as log:  # the child keeps its copy
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "monitor", "run", "-c", str(path), "--log-level", "INFO",
            cwd=path.parent, stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )  # fmt: skip


@pytest.mark.postgres
@pytest.mark.slow
async def test_three_replicas_share_the_work_and_survive_a_kill(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    feeds.delay = 0.05  # a cycle takes a few seconds: the kill lands in the middle of one
    expected = publish(feeds, 0)
    async with postgres_database() as storage:
        path = tmp_path / "monitor.yaml"
        path.write_text(config(storage, feeds, receiver))
        loop = asyncio.get_running_loop()
        started = loop.time()
        replicas = [await replica(path, k) for k in range(3)]
        try:
            await asyncio.sleep(INTERVAL / 2)
            expected |= publish(feeds, 1)  # for the second cycle
            await asyncio.sleep(KILL_AT - (loop.time() - started))
            replicas[0].send_signal(signal.SIGKILL)
            await replicas[0].wait()
            await asyncio.sleep(LAST_PUBLISHED - (loop.time() - started))
            expected |= publish(feeds, 2)  # polled by the two survivors only
            await asyncio.sleep(RUN - (loop.time() - started))
        finally:
            for process in replicas[1:]:
                process.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(p.wait(), 15) for p in replicas[1:]]
        ended = loop.time()
    logs = "".join((tmp_path / f"replica{k}.log").read_text() for k in range(3))
    assert codes == [0, 0], logs

    polls: dict[str, list[float]] = defaultdict(list)
    for source, at in feeds.log:
        polls[source].append(at)
    assert set(polls) == {f"/s{n:03}" for n in range(SOURCES)}
    slack = 2 * POLL_TICK.total_seconds() + 2.0  # tick granularity and poll time
    for source, times in polls.items():
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # never twice in one interval (a poll's next due time is its start plus the interval)
        assert min(gaps, default=INTERVAL) >= INTERVAL - 1.0, (source, times)
        # never left longer than an interval plus a dead replica's lease
        assert max([*gaps, ended - times[-1]]) <= INTERVAL + LEASE + slack, (source, times)

    digests_of: dict[str, set[str]] = defaultdict(set)
    for request in receiver.accepted():
        body = json.loads(request.body)
        for item in body["items"]:
            digests_of[item["link"]].add(body["id"])
    assert set(digests_of) == expected, sorted(expected - set(digests_of))
    assert {link: ids for link, ids in digests_of.items() if len(ids) > 1} == {}
