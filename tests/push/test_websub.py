"""WebSub push end to end: the daemon (run_forever) subscribes a feed that names a loopback hub,
answers the hub's challenge, takes signed deliveries into the pipeline (an immediate webhook
within 2 s), ignores forged ones, renews its lease, polls less while the hub delivers and again
when it goes quiet, and unsubscribes a source that is removed."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.cli.status import status_command
from monitor.config.load import parse_config
from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.daemon.forever import run_forever
from monitor.daemon.serving import serve_http
from monitor.push.subscriptions import WebSub
from monitor.store.push import PushStore, Subscription
from tests.support.daemon import SECRET, sources_text, titles, webhook_subscriber
from tests.support.databases import postgres_database
from tests.support.hub import LoopbackHub
from tests.support.peers import (
    FakeClock,
    FeedServer,
    Resource,
    WebhookReceiver,
    rss,
    years_from_today,
)

LEASE = timedelta(days=10)  # what the daemon asks by default


def hubbed(items: list[dict[str, Any]], hub: str, topic: str) -> bytes:
    """An RSS feed naming its hub and itself, as WordPress's WebSub plugin writes them."""
    links = f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{topic}"/>'
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
class Peers:
    """A feed naming a loopback hub, a webhook receiver, and the configuration of a daemon
    whose HTTP server hubs can reach."""

    feeds: FeedServer
    receiver: WebhookReceiver
    hub: LoopbackHub
    clock: FakeClock
    topic: str
    hub_url: str  # as the feed names it
    config_text: str

    @property
    def config(self) -> Config:
        return parse_config(self.config_text, "monitor.yaml", {"WEBHOOK_SECRET": SECRET})

    def item(self, title: str, minutes_ago: int = 1, summary: str = "") -> dict[str, Any]:
        when = self.clock.now - timedelta(minutes=minutes_ago)
        link = f"https://leseco.ma/{len(title)}"
        return {"title": title, "link": link, "published": when, "summary": summary}

    def feed(self, items: list[dict[str, Any]]) -> bytes:
        return hubbed(items, self.hub_url, self.topic)


@dataclass
class Setup(Peers):
    app: App | None = None

    @property
    def daemon(self) -> App:
        assert self.app is not None
        return self.app

    @property
    def websub(self) -> WebSub:
        assert self.daemon.websub is not None
        return self.daemon.websub

    async def subscription(self) -> Subscription:
        (sub,) = [s for s in await PushStore(self.daemon.store.engine).all() if s.wanted]
        return sub


@asynccontextmanager
async def peers(
    tmp_path: Path,
    lease_seconds: int | None = None,
    hub_path: str = "/",
    header: bool = False,
    start: datetime | None = None,
) -> AsyncIterator[Setup]:
    """The peers, the feed holding one old item. With ``header`` the hub is named by the
    feed's Link header, the body naming another (the header wins)."""
    feeds, receiver, hub = FeedServer(), WebhookReceiver(), LoopbackHub(lease_seconds=lease_seconds)
    for peer in (feeds, receiver, hub):
        await peer.start()
    clock = FakeClock(start)
    topic = f"{feeds.url}/feed"
    port = free_port()
    text = sources_text(
        tmp_path,
        f"  - name: leseco\n    url: {topic}\n    interval: 10m\n",
        webhook_subscriber(receiver.url),
        f"http:\n  listen: 127.0.0.1:{port}\n  base_url: http://127.0.0.1:{port}\n",
    )
    setup = Setup(feeds, receiver, hub, clock, topic, hub.url + hub_path, text)
    old = {"title": "Ancien", "link": "https://leseco.ma/0", "published": clock.now - LEASE}
    feeds.resources["/feed"] = Resource(setup.feed([old]))
    if header:
        link = f'<{setup.hub_url}>; rel="hub", <{topic}>; rel="self"'
        body = hubbed([old], "https://hub.invalid/", topic)
        feeds.resources["/feed"] = Resource(body, headers={"Link": link})
    try:
        yield setup
    finally:
        for peer in (feeds, receiver, hub):
            await peer.close()


@asynccontextmanager
async def running(setup: Setup, verifications: int = 1) -> AsyncIterator[App]:
    """The daemon, once the hub has made ``verifications`` in all."""
    stop = asyncio.Event()
    async with App(setup.config, clock=setup.clock) as app:
        setup.app = app
        daemon = asyncio.create_task(run_forever(app, stop))
        async with asyncio.timeout(10):
            await app.serving.wait()
            await setup.hub.wait_for_verifications(verifications)
        yield app
        stop.set()
        await asyncio.wait_for(daemon, 10)


@asynccontextmanager
async def pushed_daemon(tmp_path: Path, **options: Any) -> AsyncIterator[Setup]:
    """The daemon running, its one source subscribed at the hub (verified)."""
    async with peers(tmp_path, **options) as setup, running(setup):
        yield setup


async def poll_after(setup: Setup, delay: timedelta) -> None:
    setup.clock.advance(delay)
    await setup.daemon.poll_due()
    await setup.daemon.settle()


@pytest.mark.slow
async def test_an_item_published_at_the_hub_reaches_an_immediate_webhook_within_2s(
    tmp_path: Path,
) -> None:
    async with pushed_daemon(tmp_path) as setup:
        app, hub = setup.daemon, setup.hub
        (asked,) = hub.requests
        assert asked["hub.mode"] == "subscribe" and asked["hub.topic"] == setup.topic
        assert asked["hub.lease_seconds"] == str(int(LEASE.total_seconds()))
        assert asked["hub.callback"].startswith(f"{app.config.http.base_url}/websub/")  # type: ignore[union-attr]
        assert len(asked["hub.secret"]) >= 32
        assert hub.verifications[0].echoed  # the challenge came back
        sub = await setup.subscription()
        assert sub.lease_until == setup.clock.now + LEASE
        # while the hub delivers, the feed is polled hourly, as a check, not every 10 minutes
        assert app.poller.interval(app.config, app.sources["leseco"]) == timedelta(hours=1)

        body = setup.feed([setup.item("Démarchage : la loi entre en vigueur")])
        loop = asyncio.get_running_loop()
        published = loop.time()
        assert await hub.publish(setup.topic, body) == [204]
        async with asyncio.timeout(5):
            await setup.receiver.wait_for_requests(1)
        elapsed = loop.time() - published
        print(f"hub delivery to webhook: {elapsed * 1000:.0f} ms")
        # issue 8 asks for this figure from this test: tens of milliseconds on loopback, so the
        # bound is far from any scheduling noise
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
        assert app.metrics.registry.get_sample_value("monitor_pushes_total") == 2


@pytest.mark.slow
async def test_a_delivery_not_signed_with_our_secret_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with pushed_daemon(tmp_path) as setup:
        hub = setup.hub
        forged = setup.feed([setup.item("Démarchage : faux")])
        with caplog.at_level(logging.WARNING, logger="monitor"):
            assert await hub.publish(setup.topic, forged, secret="not-the-secret") == [202]
        assert "websub-unsigned" in caplog.text
        callback = hub.requests[0]["hub.callback"]
        async with aiohttp.ClientSession() as session:
            async with session.post(callback, data=forged) as unsigned:  # no signature at all
                assert unsigned.status == 202
        sha1 = setup.feed([setup.item("Démarchage : vrai")])
        assert await hub.publish(setup.topic, sha1, method="sha1") == [204]
        await setup.daemon.settle()
        async with asyncio.timeout(5):
            await setup.receiver.wait_for_requests(1)
        assert titles(setup.receiver) == [["Démarchage : vrai"]]


@pytest.mark.slow
async def test_the_lease_is_renewed_before_it_ends(tmp_path: Path) -> None:
    async with pushed_daemon(tmp_path, lease_seconds=3600) as setup:
        app, hub, clock = setup.daemon, setup.hub, setup.clock
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
        assert app.poller.interval(app.config, app.sources["leseco"]) == timedelta(minutes=10)
        state = (await app.store.states(["leseco"]))["leseco"]
        assert state.last_poll_at is not None  # (due again 10 minutes after it, not in an hour)
        assert state.next_due_at == state.last_poll_at + timedelta(minutes=10)


# the fake clock's start: the usual one, and years on either side of the day the test runs (the
# daemon and `monitor status` must both read the fake clock, never the real one)
STARTS = [None, years_from_today(-10), years_from_today(10)]


@pytest.mark.slow
@pytest.mark.parametrize("start", STARTS, ids=["usual", "10y-before-today", "10y-after-today"])
async def test_a_quiet_hub_puts_the_feed_back_on_its_interval_until_it_delivers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start: datetime | None
) -> None:
    async with pushed_daemon(tmp_path, start=start) as setup:
        app, clock = setup.daemon, setup.clock
        assert app.websub is not None and "leseco" in app.websub.delivering
        missed = setup.item("Démarchage : le hub l'a raté")
        setup.feeds.resources["/feed"] = Resource(setup.feed([missed]))
        clock.advance(timedelta(minutes=61))
        await app.poll_due()
        await app.settle()
        async with asyncio.timeout(5):
            await setup.receiver.wait_for_requests(1)
        assert titles(setup.receiver) == [["Démarchage : le hub l'a raté"]]
        assert "leseco" not in app.websub.delivering
        assert (await setup.subscription()).quiet_since == clock.now
        assert app.poller.interval(app.config, app.sources["leseco"]) == timedelta(minutes=10)
        state = (await app.store.states(["leseco"]))["leseco"]
        assert state.next_due_at == clock.now + timedelta(minutes=10)  # not in an hour
        await status_command(app.config, clock)
        assert f"hub {setup.hub.url}/ quiet since" in capsys.readouterr().out

        later = setup.feed([setup.item("Démarchage : le hub revient")])
        assert await setup.hub.publish(setup.topic, later) == [204]
        assert "leseco" in app.websub.delivering
        assert app.poller.interval(app.config, app.sources["leseco"]) == timedelta(hours=1)
        await status_command(app.config, clock)
        assert f"pushed by {setup.hub.url}/ (lease ends" in capsys.readouterr().out
        off = setup.config_text.replace("  base_url:", "  websub: {enabled: false}\n  base_url:")
        await status_command(replace(setup, config_text=off).config, clock)
        assert "source leseco: " in (out := capsys.readouterr().out) and "hub" not in out


async def test_a_removed_source_is_unsubscribed_and_its_callback_is_gone(tmp_path: Path) -> None:
    async with pushed_daemon(tmp_path) as setup:
        app, hub = setup.daemon, setup.hub
        callback = hub.requests[0]["hub.callback"]
        without = setup.config_text.replace(
            f"  - name: leseco\n    url: {setup.topic}\n",
            f"  - name: autre\n    url: {setup.feeds.url}/autre\n",
        )
        await app.reload(replace(setup, config_text=without).config)
        async with asyncio.timeout(10):
            await hub.wait_for_verifications(2)
        assert hub.requests[1]["hub.mode"] == "unsubscribe"
        assert hub.requests[1]["hub.callback"] == callback
        assert hub.verifications[1].echoed and hub.subscribers == {}
        assert await PushStore(app.store.engine).all() == []
        body = setup.feed([setup.item("Démarchage : trop tard")])
        async with aiohttp.ClientSession() as session:
            async with session.post(callback, data=body) as late:
                assert late.status == 410  # the hub may drop what it still holds
        assert setup.receiver.requests == []


@pytest.mark.slow
async def test_hub_refusals_and_stray_requests(tmp_path: Path) -> None:
    async with pushed_daemon(tmp_path) as setup:
        app, hub = setup.daemon, setup.hub
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


@pytest.mark.slow
async def test_a_thin_delivery_leaves_what_it_does_not_alert_to_the_next_poll(
    tmp_path: Path,
) -> None:
    """Hubs may deliver less than the feed holds (YouTube's: no description). An item the
    delivery does not alert is not recorded from it, so the next poll matches it on the whole
    of the feed's copy; and a hub that delivered since the last poll is not taken for quiet."""
    async with pushed_daemon(tmp_path) as setup:
        app = setup.daemon
        thin = setup.item("Une nouvelle loi")
        assert await setup.hub.publish(setup.topic, setup.feed([thin])) == [204]
        assert setup.receiver.requests == []
        whole = thin | {"summary": "Le démarchage téléphonique sera interdit"}
        setup.feeds.resources["/feed"] = Resource(setup.feed([whole]))
        await poll_after(setup, timedelta(minutes=61))
        async with asyncio.timeout(5):
            await setup.receiver.wait_for_requests(1)
        assert titles(setup.receiver) == [["Une nouvelle loi"]]
        assert "leseco" in setup.websub.delivering
        assert app.poller.interval(app.config, app.sources["leseco"]) == timedelta(hours=1)


@pytest.mark.slow
async def test_a_hub_that_moved_is_asked_at_its_new_address(tmp_path: Path) -> None:
    """A 301 from the hub's old address: the form is posted again at the new one (aiohttp
    alone would follow with a GET and no form, which a hub's home page answers 200)."""
    async with pushed_daemon(tmp_path, hub_path="/moved") as setup:
        assert [r["hub.mode"] for r in setup.hub.requests] == ["subscribe"]
        assert (await setup.subscription()).lease_until is not None


@pytest.mark.slow
async def test_run_once_subscribes_to_nothing(tmp_path: Path) -> None:
    async with peers(tmp_path) as setup, App(setup.config, clock=setup.clock) as app:
        await app.run_once()
        assert setup.feeds.hits["/feed"] == 1
        assert setup.hub.requests == []
        assert await PushStore(app.store.engine).all() == []


@pytest.mark.slow
async def test_a_restart_keeps_the_subscription_without_asking_again(tmp_path: Path) -> None:
    async with peers(tmp_path) as setup:
        async with running(setup):
            first = await setup.subscription()
        setup.clock.advance(timedelta(minutes=5))
        async with running(setup, verifications=1) as app:
            await app.settle()
            assert setup.hub.requests[1:] == []  # nothing asked again
            assert await setup.subscription() == first
            assert "leseco" in setup.websub.delivering
            news = setup.feed([setup.item("Démarchage : après le redémarrage")])
            assert await setup.hub.publish(setup.topic, news) == [204]
            async with asyncio.timeout(5):
                await setup.receiver.wait_for_requests(1)


@pytest.mark.slow
async def test_a_feed_that_names_another_hub_moves_its_subscription(tmp_path: Path) -> None:
    async with pushed_daemon(tmp_path) as setup:
        other = LoopbackHub()
        await other.start()
        try:
            setup.feeds.resources["/feed"] = Resource(
                hubbed([setup.item("Rien")], f"{other.url}/", setup.topic)
            )
            await poll_after(setup, timedelta(minutes=61))
            async with asyncio.timeout(10):
                await setup.hub.wait_for_verifications(2)
                await other.wait_for_verifications(1)
            assert [r["hub.mode"] for r in setup.hub.requests] == ["subscribe", "unsubscribe"]
            assert setup.hub.subscribers == {}
            assert [r["hub.mode"] for r in other.requests] == ["subscribe"]
            assert (await setup.subscription()).hub == f"{other.url}/"
            assert len(await PushStore(setup.daemon.store.engine).all()) == 1
        finally:
            await other.close()


@pytest.mark.postgres
@pytest.mark.slow
async def test_any_replica_answers_the_hub(tmp_path: Path) -> None:
    """Replicas over one PostgreSQL store behind one public address: the hub's verification
    and delivery reach whichever replica, which answers from the store alone."""
    async with postgres_database() as storage, peers(tmp_path) as setup:
        setup.config_text = setup.config_text.replace(f"sqlite:///{tmp_path}/monitor.db", storage)
        async with running(setup):
            first = re.search(r"listen: 127\.0\.0\.1:(\d+)", setup.config_text)
            assert first is not None
            text = setup.config_text.replace(first[0], f"listen: 127.0.0.1:{free_port()}")
            config = replace(setup, config_text=text).config
            async with App(config, clock=setup.clock) as second:
                port = await serve_http(second)
                (subscriber,) = setup.hub.subscribers.values()
                subscriber.callback = subscriber.callback.replace(f":{first[1]}/", f":{port}/")
                check = {"hub.mode": "subscribe", "hub.topic": setup.topic}
                check |= {"hub.challenge": "défi", "hub.lease_seconds": "7200"}
                async with aiohttp.ClientSession() as session:
                    async with session.get(subscriber.callback, params=check) as answer:
                        assert (answer.status, await answer.text()) == (200, "défi")
                news = setup.feed([setup.item("Démarchage : reçu par l'autre réplique")])
                assert await setup.hub.publish(setup.topic, news) == [204]
                await second.settle()
                async with asyncio.timeout(5):
                    await setup.receiver.wait_for_requests(1)
                assert titles(setup.receiver) == [["Démarchage : reçu par l'autre réplique"]]
                sub = await setup.subscription()
                assert sub.lease_until == setup.clock.now + timedelta(hours=2)
