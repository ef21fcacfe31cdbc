"""WebSub push end to end: the daemon (run_forever) subscribes a feed that names a loopback hub,
answers the hub's challenge, takes signed deliveries into the pipeline (an immediate webhook
within 2 s), ignores forged ones, renews its lease, polls less while the hub delivers and again
when it goes quiet, and unsubscribes a source that is removed."""

from __future__ import annotations

import asyncio
import io
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.app import App
from monitor.commands import status_command
from monitor.config import Config
from monitor.store.push import PushStore, Subscription
from monitor.yamlconfig import parse_config
from tests.hub import LoopbackHub
from tests.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss
from tests.test_daemon import SECRET, sources_text, titles, webhook_subscriber

LEASE = timedelta(days=10)  # what the daemon asks by default


def hubbed(items: list[dict[str, Any]], hub: str, topic: str) -> bytes:
    """An RSS feed naming its hub and itself, as WordPress's WebSub plugin writes them."""
    links = f'<atom:link rel="hub" href="{hub}/"/><atom:link rel="self" href="{topic}"/>'
    body = rss(items).decode()
    body = body.replace(
        '<rss version="2.0">', '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
    )
    return body.replace("<channel>", "<channel>" + links, 1).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Setup:
    app: App
    hub: LoopbackHub
    feeds: FeedServer
    receiver: WebhookReceiver
    clock: FakeClock
    topic: str
    config_text: str

    async def subscription(self) -> Subscription:
        (sub,) = [s for s in await PushStore(self.app.store.engine).all() if s.wanted]
        return sub

    def item(self, title: str, minutes_ago: int = 1) -> dict[str, Any]:
        when = self.clock.now - timedelta(minutes=minutes_ago)
        return {"title": title, "link": f"https://leseco.ma/{len(title)}", "published": when}


@asynccontextmanager
async def pushed_daemon(
    tmp_path: Path, lease_seconds: int | None = None, header: bool = False
) -> AsyncIterator[Setup]:
    """The daemon running, its one source subscribed at the hub (verified). With ``header``
    the hub is named by the feed's Link header, the body naming another (the header wins)."""
    feeds, receiver, hub = FeedServer(), WebhookReceiver(), LoopbackHub(lease_seconds=lease_seconds)
    for peer in (feeds, receiver, hub):
        await peer.start()
    clock = FakeClock()
    topic = f"{feeds.url}/feed"
    old = {"title": "Ancien", "link": "https://leseco.ma/0", "published": clock.now - LEASE}
    feeds.resources["/feed"] = Resource(hubbed([old], hub.url, topic))
    if header:
        link = f'<{hub.url}/>; rel="hub", <{topic}>; rel="self"'
        body = hubbed([old], "https://hub.invalid", topic)
        feeds.resources["/feed"] = Resource(body, headers={"Link": link})
    port = free_port()
    text = sources_text(
        tmp_path,
        f"  - name: leseco\n    url: {topic}\n    interval: 10m\n",
        webhook_subscriber(receiver.url),
        f"http:\n  listen: 127.0.0.1:{port}\n  base_url: http://127.0.0.1:{port}\n",
    )
    config = parse_config(text, "monitor.yaml", {"WEBHOOK_SECRET": SECRET})
    stop = asyncio.Event()
    try:
        async with App(config, clock=clock) as app:
            daemon = asyncio.create_task(app.run_forever(stop))
            async with asyncio.timeout(10):
                await hub.wait_for_verifications(1)
            yield Setup(app, hub, feeds, receiver, clock, topic, text)
            stop.set()
            await asyncio.wait_for(daemon, 10)
    finally:
        for peer in (feeds, receiver, hub):
            await peer.close()


def reconfigured(setup: Setup, text: str) -> Config:
    return parse_config(text, "monitor.yaml", {"WEBHOOK_SECRET": SECRET})


async def test_an_item_published_at_the_hub_reaches_an_immediate_webhook_within_2s(
    tmp_path: Path,
) -> None:
    async with pushed_daemon(tmp_path) as setup:
        app, hub = setup.app, setup.hub
        (asked,) = hub.requests
        assert asked["hub.mode"] == "subscribe" and asked["hub.topic"] == setup.topic
        assert asked["hub.lease_seconds"] == str(int(LEASE.total_seconds()))
        assert asked["hub.callback"].startswith(f"{app.config.http.base_url}/websub/")  # type: ignore[union-attr]
        assert len(asked["hub.secret"]) >= 32
        assert hub.verifications[0].echoed  # the challenge came back
        sub = await setup.subscription()
        assert sub.lease_until == setup.clock.now + LEASE
        # while the hub delivers, the feed is polled hourly, as a check, not every 10 minutes
        assert app.poller.interval(app.sources["leseco"]) == timedelta(hours=1)

        body = hubbed([setup.item("Démarchage : la loi entre en vigueur")], hub.url, setup.topic)
        loop = asyncio.get_running_loop()
        published = loop.time()
        assert await hub.publish(setup.topic, body) == [204]
        async with asyncio.timeout(5):
            await setup.receiver.wait_for_requests(1)
        elapsed = loop.time() - published
        print(f"hub delivery to webhook: {elapsed * 1000:.0f} ms")
        assert elapsed < 2.0
        assert titles(setup.receiver) == [["Démarchage : la loi entre en vigueur"]]

        # delivered again, and read by the next poll: alerted once
        assert await hub.publish(setup.topic, body) == [204]
        setup.feeds.resources["/feed"] = Resource(body)
        setup.clock.advance(timedelta(hours=2))
        await app.poll_due()
        await app.settle()
        assert setup.feeds.hits["/feed"] == 2
        assert len(setup.receiver.requests) == 1
        assert "leseco" in app.websub.delivering  # type: ignore[union-attr]
        assert (await setup.subscription()).last_push_at is not None


async def test_a_delivery_not_signed_with_our_secret_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with pushed_daemon(tmp_path) as setup:
        hub = setup.hub
        forged = hubbed([setup.item("Démarchage : faux")], hub.url, setup.topic)
        with caplog.at_level(logging.WARNING, logger="monitor"):
            assert await hub.publish(setup.topic, forged, secret="not-the-secret") == [202]
        assert "websub-unsigned" in caplog.text
        callback = hub.requests[0]["hub.callback"]
        async with aiohttp.ClientSession() as session:
            async with session.post(callback, data=forged) as unsigned:  # no signature at all
                assert unsigned.status == 202
        sha1 = hubbed([setup.item("Démarchage : vrai")], hub.url, setup.topic)
        assert await hub.publish(setup.topic, sha1, method="sha1") == [204]
        await setup.app.settle()
        async with asyncio.timeout(5):
            await setup.receiver.wait_for_requests(1)
        assert titles(setup.receiver) == [["Démarchage : vrai"]]


async def test_the_lease_is_renewed_before_it_ends(tmp_path: Path) -> None:
    async with pushed_daemon(tmp_path, lease_seconds=3600) as setup:
        app, hub, clock = setup.app, setup.hub, setup.clock
        first = await setup.subscription()
        assert first.lease_until == clock.now + timedelta(hours=1)  # what the hub granted
        assert app.websub is not None
        clock.advance(timedelta(minutes=40))
        await app.websub.renew_due()
        assert len(hub.requests) == 1  # not yet: a fifth of the lease is left at 48 minutes
        clock.advance(timedelta(minutes=10))
        await app.websub.renew_due()
        async with asyncio.timeout(10):
            await hub.wait_for_verifications(2)
        renewal = hub.requests[1]
        assert renewal["hub.mode"] == "subscribe"
        assert renewal["hub.callback"] == hub.requests[0]["hub.callback"]
        assert renewal["hub.secret"] == hub.requests[0]["hub.secret"]
        renewed = await setup.subscription()
        assert renewed.lease_until == clock.now + timedelta(hours=1)
        assert "leseco" in app.websub.delivering

        # a lease that ends unrenewed (the hub refuses renewals): polled on its interval again
        hub.statuses = [503] * 5
        clock.advance(timedelta(minutes=50))
        await app.websub.renew_due()
        failed = await setup.subscription()
        assert failed.attempts == 1 and "refused the subscription (503)" in (
            failed.last_error or ""
        )
        assert "leseco" in app.websub.delivering  # the lease still runs
        clock.advance(timedelta(minutes=11))
        await app.websub.renew_due()
        assert "leseco" not in app.websub.delivering
        assert app.poller.interval(app.sources["leseco"]) == timedelta(minutes=10)


async def test_a_quiet_hub_puts_the_feed_back_on_its_interval_until_it_delivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with pushed_daemon(tmp_path) as setup:
        app, clock = setup.app, setup.clock
        assert app.websub is not None and "leseco" in app.websub.delivering
        missed = setup.item("Démarchage : le hub l'a raté")
        setup.feeds.resources["/feed"] = Resource(hubbed([missed], setup.hub.url, setup.topic))
        clock.advance(timedelta(minutes=61))
        await app.poll_due()
        await app.settle()
        async with asyncio.timeout(5):
            await setup.receiver.wait_for_requests(1)
        assert titles(setup.receiver) == [["Démarchage : le hub l'a raté"]]
        assert "leseco" not in app.websub.delivering
        assert (await setup.subscription()).quiet_since == clock.now
        assert app.poller.interval(app.sources["leseco"]) == timedelta(minutes=10)
        state = (await app.store.states(["leseco"]))["leseco"]
        assert state.next_due_at == clock.now + timedelta(minutes=10)  # not in an hour
        await status_command(app.config)
        assert f"hub {setup.hub.url}/ quiet since" in capsys.readouterr().out

        later = hubbed([setup.item("Démarchage : le hub revient")], setup.hub.url, setup.topic)
        assert await setup.hub.publish(setup.topic, later) == [204]
        assert "leseco" in app.websub.delivering
        assert app.poller.interval(app.sources["leseco"]) == timedelta(hours=1)
        await status_command(app.config)
        assert f"pushed by {setup.hub.url}/ (lease ends" in capsys.readouterr().out


async def test_a_removed_source_is_unsubscribed_and_its_callback_is_gone(tmp_path: Path) -> None:
    async with pushed_daemon(tmp_path) as setup:
        app, hub = setup.app, setup.hub
        callback = hub.requests[0]["hub.callback"]
        without = setup.config_text.replace(
            f"  - name: leseco\n    url: {setup.topic}\n",
            f"  - name: autre\n    url: {setup.feeds.url}/autre\n",
        )
        await app.reload(reconfigured(setup, without))
        async with asyncio.timeout(10):
            await hub.wait_for_verifications(2)
        assert hub.requests[1]["hub.mode"] == "unsubscribe"
        assert hub.requests[1]["hub.callback"] == callback
        assert hub.verifications[1].echoed and hub.subscribers == {}
        assert await PushStore(app.store.engine).all() == []
        body = hubbed([setup.item("Démarchage : trop tard")], hub.url, setup.topic)
        async with aiohttp.ClientSession() as session:
            async with session.post(callback, data=body) as late:
                assert late.status == 410  # the hub may drop what it still holds
        assert setup.receiver.requests == []


async def test_hub_refusals_and_stray_requests(tmp_path: Path) -> None:
    async with pushed_daemon(tmp_path) as setup:
        app, hub = setup.app, setup.hub
        callback = hub.requests[0]["hub.callback"]
        async with aiohttp.ClientSession() as session:
            stray = {"hub.mode": "subscribe", "hub.topic": "https://other.example/feed"}
            async with session.get(callback, params=stray | {"hub.challenge": "x"}) as r:
                assert r.status == 404  # not the topic we asked for
            right = {"hub.mode": "unsubscribe", "hub.topic": setup.topic, "hub.challenge": "x"}
            async with session.get(callback, params=right) as r:
                assert r.status == 404  # we never asked to unsubscribe
            async with session.post(f"{app.config.http.base_url}/websub/nope", data=b"x") as r:  # type: ignore[union-attr]
                assert r.status == 410
            huge = io.BytesIO(b"<rss>" + b" " * app.config.network.max_bytes)
            async with session.post(callback, data=huge) as r:
                assert r.status == 413
        assert await hub.deny(setup.topic, "too many subscriptions") == 200
        denied = await setup.subscription()
        assert denied.lease_until is None
        assert denied.last_error == "denied by the hub: too many subscriptions"
        assert denied.renew_at > setup.clock.now  # asked again later
        assert app.websub is not None and "leseco" not in app.websub.delivering


async def test_a_hub_named_by_the_link_header_is_the_one_subscribed(tmp_path: Path) -> None:
    async with pushed_daemon(tmp_path, header=True) as setup:
        assert [r["hub.topic"] for r in setup.hub.requests] == [setup.topic]
        assert (await setup.subscription()).hub == f"{setup.hub.url}/"
