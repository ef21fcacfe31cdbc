"""The daemon in its long-running mode: polls start at once, one slow source does not delay the
alerts of the others, and a source is polled when it falls due."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.daemon import jobs as scheduler
from monitor.daemon import serving
from monitor.daemon.app import App
from monitor.daemon.forever import run_forever
from monitor.delivery.dispatch import SendReport
from monitor.poll import claims as polling
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss


@pytest.mark.slow
async def test_a_hanging_source_does_not_hold_back_the_others(tmp_path: Path) -> None:
    feeds, receiver = FeedServer(), WebhookReceiver()
    await feeds.start()
    await receiver.start()
    clock = FakeClock()
    when = clock.now - timedelta(minutes=1)
    feeds.resources["/fast"] = Resource(
        rss([{"title": "Démarchage : vite", "link": "https://x.ma/1", "published": when}])
    )
    feeds.resources["/slow"] = Resource(
        rss([{"title": "Démarchage : lent", "link": "https://x.ma/2", "published": when}])
    )
    feeds.gates["/slow"] = asyncio.Event()
    config = build_config(
        tmp_path,
        {"slow": f"{feeds.url}/slow", "fast": f"{feeds.url}/fast"},
        webhook_subscriber(receiver.url),
    )
    stop = asyncio.Event()
    try:
        async with App(config, clock=clock) as app:
            daemon = asyncio.create_task(run_forever(app, stop))
            async with asyncio.timeout(10):
                await receiver.wait_for_requests(1)
            # the fast source's alert arrived while the slow source is still waiting
            assert feeds.hits["/slow"] == 1
            assert [i["title"] for i in json.loads(receiver.requests[0].body)["items"]] == [
                "Démarchage : vite"
            ]
            feeds.gates["/slow"].set()
            async with asyncio.timeout(10):
                await receiver.wait_for_requests(2)
            stop.set()
            await asyncio.wait_for(daemon, 10)
        assert [i["title"] for i in json.loads(receiver.requests[1].body)["items"]] == [
            "Démarchage : lent"
        ]
    finally:
        feeds.gates["/slow"].set()
        await feeds.close()
        await receiver.close()


@pytest.mark.slow
async def test_a_source_is_polled_when_due_not_at_the_next_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the scheduler's tick a minute apart, sources on a one-second interval are still
    polled every second (the claim waits for the next due time), and never twice at once."""
    monkeypatch.setattr(scheduler, "POLL_TICK", timedelta(minutes=1))
    monkeypatch.setattr(serving, "POLL_TICK", timedelta(minutes=1))
    monkeypatch.setattr(polling, "POLL_TICK", timedelta(minutes=1))
    feeds, receiver = FeedServer(), WebhookReceiver()
    await feeds.start()
    await receiver.start()
    for path in ("/a", "/b"):
        feeds.resources[path] = Resource(rss([{"title": "rien", "link": "https://x.ma/1"}]))
    config = build_config(
        tmp_path, {"a": f"{feeds.url}/a", "b": f"{feeds.url}/b"}, webhook_subscriber(receiver.url)
    )
    every = timedelta(seconds=1)  # under the configuration's minimum: set past validation
    config = config.model_copy(
        update={"defaults": config.defaults.model_copy(update={"interval": every})}
    )
    stop = asyncio.Event()
    try:
        async with App(config) as app:
            daemon = asyncio.create_task(run_forever(app, stop))
            async with asyncio.timeout(10):
                while min(feeds.hits["/a"], feeds.hits["/b"]) < 4:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(daemon, 10)
    finally:
        await feeds.close()
        await receiver.close()
    for path in ("/a", "/b"):
        times = [at for polled, at in feeds.log if polled == path]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(0.95 <= gap <= 1.5 for gap in gaps), gaps


async def test_polls_ending_during_a_flush_share_the_next_one(tmp_path: Path) -> None:
    """Each poll with matches asks for an immediate flush; those asking while one runs get
    one more after it (not one each), and nothing asked for is left unflushed."""
    config = build_config(
        tmp_path, {"a": "http://127.0.0.1:9/feed"}, webhook_subscriber("http://127.0.0.1:9")
    )
    async with App(config) as app:
        flushes: list[float] = []
        real = app.dispatcher.flush

        async def counted(only_immediate: bool = False) -> list[SendReport]:
            flushes.append(asyncio.get_running_loop().time())
            await asyncio.sleep(0.05)
            return await real(only_immediate)

        app.dispatcher.flush = counted  # type: ignore[method-assign]
        for _ in range(10):  # ten polls ending together
            app.polling.flush_soon()
            await asyncio.sleep(0)
        await app.settle()
        assert len(flushes) == 2  # the first, and one for those that ended during it
        app.polling.flush_soon()  # a later poll gets its own
        await app.settle()
        assert len(flushes) == 3
