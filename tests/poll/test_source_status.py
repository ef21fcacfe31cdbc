"""HTTP answers that change when and where a source is polled: Retry-After, backoff, 410 Gone,
permanent and temporary redirects (issue 3). Real loopback server, fake clock."""

from __future__ import annotations

import itertools
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.config.model import Config
from monitor.daemon.app import App
from tests.support.daemon import build_config, titles, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss


def one_source(tmp_path: Path, url: str, receiver: WebhookReceiver) -> Config:
    return build_config(tmp_path, {"src": url}, webhook_subscriber(receiver.url))


async def poll_when_due(app: App) -> None:
    await app.poll_due()
    await app.settle()


@pytest.mark.slow
@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("form", ["seconds", "http-date"])
async def test_retry_after_holds_every_request_until_then(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver], status: int, form: str
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    wait = timedelta(hours=2)  # longer than the 15 min interval and its backoff
    value = "7200" if form == "seconds" else format_datetime(clock.now + wait, usegmt=True)
    feeds.resources["/f"] = Resource(b"busy", status=status, headers={"Retry-After": value})
    async with App(one_source(tmp_path, f"{feeds.url}/f", receiver), clock=clock) as app:
        await app.run_once()
        assert feeds.hits["/f"] == 1
        feeds.resources["/f"] = Resource(rss([{"title": "IA", "link": "https://x.ma/1"}]))
        for _ in range(11):  # every 10 minutes up to 1 h 50: no request
            clock.advance(timedelta(minutes=10))
            await poll_when_due(app)
        assert feeds.hits["/f"] == 1
        clock.advance(timedelta(minutes=10, seconds=1))
        await poll_when_due(app)
        assert feeds.hits["/f"] == 2


async def test_retry_after_is_capped_at_a_day(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    feeds.resources["/f"] = Resource(b"", status=429, headers={"Retry-After": "999999999"})
    async with App(one_source(tmp_path, f"{feeds.url}/f", receiver), clock=clock) as app:
        await app.run_once()
        state = (await app.store.states(["src"]))["src"]
        assert state.next_due_at == clock.now + timedelta(hours=24)


@pytest.mark.slow
@pytest.mark.parametrize("status", [404, 500, 502])
async def test_errors_back_off_exponentially_and_reset_on_success(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver], status: int
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    feeds.resources["/f"] = Resource(b"no", status=status)
    delays = []
    async with App(one_source(tmp_path, f"{feeds.url}/f", receiver), clock=clock) as app:
        for _ in range(6):
            await app.run_once()
            state = (await app.store.states(["src"]))["src"]
            assert state.next_due_at is not None and state.last_status == status
            delays.append(state.next_due_at - clock.now)
            clock.advance(state.next_due_at - clock.now)
        assert state.error_count == 6
        assert all(later > earlier for earlier, later in itertools.pairwise(delays))
        assert delays[-1] >= timedelta(minutes=15) * 2**4 * 0.8
        feeds.resources["/f"] = Resource(rss([]))
        await app.run_once()
        state = (await app.store.states(["src"]))["src"]
        assert (state.error_count, state.next_due_at) == (0, clock.now + timedelta(minutes=15))


@pytest.mark.slow
async def test_gone_source_is_not_polled_until_its_url_changes(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    feeds.resources["/old"] = Resource(b"gone", status=410)
    config = one_source(tmp_path, f"{feeds.url}/old", receiver)
    async with App(config, clock=clock) as app:
        polls, _ = await app.run_once()
        assert [p.result for p in polls] == ["error"]
        for _ in range(3):
            clock.advance(timedelta(days=2))
            await app.run_once()
            await poll_when_due(app)
        assert feeds.hits["/old"] == 1
        assert (await app.store.states(["src"]))["src"].gone_at is not None
        feeds.resources["/new"] = Resource(
            rss([{"title": "Démarchage : fin", "link": "https://x.ma/1", "published": clock.now}])
        )
        await app.reload(one_source(tmp_path, f"{feeds.url}/new", receiver))
        polls, _ = await app.run_once()
        assert [p.result for p in polls] == ["ok"]
    assert titles(receiver) == [["Démarchage : fin"]]


def moved(target: str, status: int) -> Resource:
    return Resource(b"", status=status, headers={"Location": target})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("status", "moves"), [(301, True), (308, True), (302, False), (307, False)]
)
async def test_only_a_lasting_permanent_redirect_moves_the_source(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver], status: int, moves: bool
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    feeds.resources["/old"] = moved(f"{feeds.url}/new", status)
    feeds.resources["/new"] = Resource(
        rss([{"title": "IA : un cas", "link": "https://x.ma/1", "published": clock.now}])
    )
    async with App(one_source(tmp_path, f"{feeds.url}/old", receiver), clock=clock) as app:
        for poll in range(1, 4):
            await app.run_once()
            state = (await app.store.states(["src"]))["src"]
            if poll < 3 or not moves:
                assert state.url == f"{feeds.url}/old"
            clock.advance(timedelta(minutes=15))
        assert state.url == (f"{feeds.url}/new" if moves else f"{feeds.url}/old")
        await app.run_once()
    assert feeds.hits["/old"] == (3 if moves else 4)
    assert titles(receiver) == [["IA : un cas"]]  # the move alerts nothing again


@pytest.mark.slow
async def test_an_interrupted_run_of_permanent_redirects_does_not_move(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    feeds.resources["/new"] = Resource(rss([]))
    async with App(one_source(tmp_path, f"{feeds.url}/old", receiver), clock=clock) as app:
        for status in (301, 301, 302, 301, 301):
            feeds.resources["/old"] = moved(f"{feeds.url}/new", status)
            await app.run_once()
            clock.advance(timedelta(minutes=15))
        state = (await app.store.states(["src"]))["src"]
        assert (state.url, state.redirect_count) == (f"{feeds.url}/old", 2)
