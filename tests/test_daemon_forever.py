"""The daemon in its long-running mode: polls start at once, and one slow source does not delay
the alerts of the others."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from monitor.app import App
from tests.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss
from tests.test_daemon import build_config, webhook_subscriber


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
            daemon = asyncio.create_task(app.run_forever(stop))
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
