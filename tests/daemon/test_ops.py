"""Operations: /healthz, /readyz and /metrics on the daemon's HTTP server, and JSON logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import redirect_stderr
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import create_async_engine

from monitor.core.logs import event, setup
from monitor.daemon.app import App
from monitor.daemon.forever import run_forever
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, parsed by prometheus-client's parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def get(client: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with client.get(url) as reply:
        return reply.status, await reply.text()


@pytest.mark.slow
async def test_health_readiness_and_metrics_of_a_running_daemon(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    client: aiohttp.ClientSession,
    storage: str,
) -> None:
    clock = FakeClock()
    item = {"guid": "a", "title": "L'IA au Maroc", "link": "https://x.ma/a", "published": clock.now}
    feeds.resources["/eco"] = Resource(rss([item]))
    feeds.resources["/bad"] = Resource(b"", status=503)
    config = build_config(
        tmp_path,
        {"eco": f"{feeds.url}/eco", "bad": f"{feeds.url}/bad"},
        webhook_subscriber(receiver.url),
        "http:\n  listen: 127.0.0.1:0\n",  # no base_url: no unsubscribe links, ops only
        storage=storage,
    )
    stop = asyncio.Event()
    async with App(config, clock=clock) as app:
        task = asyncio.create_task(run_forever(app, stop))
        try:
            await app.serving.wait()
            assert app.web is not None
            base = f"http://127.0.0.1:{app.web.port}"
            async with asyncio.timeout(20):
                await receiver.wait_for_requests(1)
                while len(feeds.hits) < 2:  # noqa: ASYNC110 (the feed server has no event)
                    await asyncio.sleep(0.05)
            clock.advance(timedelta(seconds=30))
            assert await get(client, f"{base}/healthz") == (200, "ok")
            assert await get(client, f"{base}/readyz") == (200, "ok")
            async with asyncio.timeout(10):
                while True:  # the send is recorded a moment after the receiver saw it
                    status, text = await get(client, f"{base}/metrics")
                    found = samples(text)
                    # (a scrape reads the store's gauges before the counters: one that began
                    # just before the mark may show the send counted but not yet marked)
                    sent = ("monitor_deliveries_total", (("result", "sent"),))
                    owed = ("monitor_outbox_items", (("state", "pending"),))
                    if found.get(sent) and found.get(owed) == 0:
                        break
                    await asyncio.sleep(0.05)
            assert status == 200
            assert found[("monitor_polls_total", (("result", "ok"),))] == 1
            assert found[("monitor_polls_total", (("result", "error"),))] == 1
            assert found[("monitor_items_total", ())] == 1
            assert found[("monitor_matches_total", ())] == 1
            assert found[("monitor_outbox_items", (("state", "pending"),))] == 0
            assert found[("monitor_outbox_items", (("state", "dead"),))] == 0
            assert ("monitor_outbox_items", (("state", "sent"),)) not in found  # (every row)
            assert found[("monitor_dead_letters", ())] == 0
            assert found[("monitor_outbox_oldest_pending_seconds", ())] == 0
            assert found[("monitor_source_lag_seconds", (("source", "eco"),))] == 30
            assert found[("monitor_source_lag_seconds", (("source", "bad"),))] == 30
            assert found[("monitor_sources", ())] == 2
            assert found[("monitor_sources_overdue", ())] == 0
            assert found[("monitor_poll_duration_seconds_count", ())] == 2
            assert found[("monitor_fetch_duration_seconds_count", ())] == 1  # the 503 failed

            app.ticked = time.monotonic() - 100  # the scheduler stopped ticking
            status, why = await get(client, f"{base}/healthz")
            assert (status, why.startswith("no tick for")) == (503, True)
            working = app.store.engine
            app.store.engine = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/x")
            status, why = await get(client, f"{base}/readyz")
            assert (status, why.startswith("store unreachable")) == (503, True)
            await app.store.engine.dispose()
            app.store.engine = working
        finally:
            stop.set()
            await task


def test_json_logs_are_one_object_per_line_and_redacted() -> None:
    stream = io.StringIO()
    with redirect_stderr(stream):
        setup("INFO", "json")
        try:
            event(
                "poll",
                source="eco",
                status=200,
                new_items=3,
                url="https://u:secret@x.ma/f?k=v&key=t0k",
            )
            event("poll-failed", level=logging.WARNING, error="HTTP 503", retry_in="60s")
        finally:
            setup("INFO")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(x["event"], x["level"]) for x in lines] == [
        ("poll", "info"),
        ("poll-failed", "warning"),
    ]
    assert lines[0]["status"] == 200 and lines[0]["new_items"] == 3
    assert lines[0]["url"] == "https://***@x.ma/f?k=v&key=***"
    assert "secret" not in stream.getvalue() and "t0k" not in stream.getvalue()
