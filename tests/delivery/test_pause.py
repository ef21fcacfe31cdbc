"""A whole daemon serving subscribers' own choices (issue 24): a pause (no digest while it
runs, what is owed stays pending, the first digest after it carries all of it, once), a
subscriber who signs up on another replica (served from the next tick), an override (holds
until the configuration moves the subscriber)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.store import open_engine, reading
from monitor.store.signups import PENDING, Requested, Signups
from monitor.store.standing import Standing, Unsubscription
from monitor.store.subscribers import SubscriberBook
from monitor.store.tables import signup_requests
from monitor.web.unsubscribe import Purpose, TokenClaim, address_tag
from tests.support.daemon import build_config
from tests.support.databases import BACKENDS, fresh_storage
from tests.support.episodes import Story, episodes, play_round, to
from tests.support.peers import FakeClock, FeedServer, SmtpSink


def _config(tmp_path: Path, feed_url: str, smtp_port: int, storage: str | None = None) -> Config:
    extra = (
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n  security: none\n"
        '  from: "Veille <veille@example.ma>"\n'
    )
    subscribers = (
        "  - name: analyste\n    email: a@example.ma\n    digest: immediate\n"
        "  - name: other\n    email: b@example.ma\n    digest: immediate\n"
    )
    return build_config(tmp_path, {"f": feed_url}, subscribers, extra, storage=storage)


@pytest.mark.slow
async def test_a_pause_holds_what_is_owed_and_the_resume_sends_it_once(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    async with App(config, clock=clock) as app:
        await play_round(app, story, clock)
        assert [episodes(m) for m in to(sink, "a@example.ma")] == [[0]]
        book = SubscriberBook(app.store.engine)
        await book.pause("analyste", clock.now + timedelta(days=3))
        for _ in range(3):
            await play_round(app, story, clock)
        assert len(to(sink, "a@example.ma")) == 1  # held
        assert len(to(sink, "b@example.ma")) == 4  # the others are not
        clock.advance(timedelta(days=3))
        await app.run_once()  # resumed: one digest with what was held
        assert [episodes(m) for m in to(sink, "a@example.ma")] == [[0], [1, 2, 3]]
        await play_round(app, story, clock)  # nothing sent twice
        assert [episodes(m) for m in to(sink, "a@example.ma")] == [[0], [1, 2, 3], [4]]


@pytest.mark.slow
async def test_a_resume_before_the_pause_ends_sends_at_once(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    async with App(config, clock=clock) as app:
        book = SubscriberBook(app.store.engine)
        await book.pause("analyste", clock.now + timedelta(days=30))
        await play_round(app, story, clock)
        assert to(sink, "a@example.ma") == []
        await book.pause("analyste", None)
        await app.run_once()
        assert [episodes(m) for m in to(sink, "a@example.ma")] == [[0]]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_subscriber_who_signed_up_elsewhere_is_served_from_the_next_tick(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, backend: str
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    async with fresh_storage(backend, tmp_path) as storage:
        config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port), storage)
        await _served_from_the_next_tick(config, story, clock, sink)


async def _served_from_the_next_tick(
    config: Config, story: Story, clock: FakeClock, sink: SmtpSink
) -> None:
    async with App(config, clock=clock) as app:
        other = await open_engine(config.storage)  # as another replica would write it
        try:
            name, _ = await SubscriberBook(other).sign_up(
                "Z@Exemple.MA", clock.now, rules=["demarchage"], digest="immediate", language="en"
            )
        finally:
            await other.dispose()
        await play_round(app, story, clock)
        assert to(sink, "Z@exemple.ma") == []  # not before a tick reads the change
        await app.tick()
        assert name in {s.name for s in app.config.subscribers}
        await play_round(app, story, clock)
        assert [episodes(m) for m in to(sink, "Z@exemple.ma")] == [[1]]
        assert not await SubscriberBook(app.store.engine).reset(name)  # not an override


@pytest.mark.slow
async def test_an_override_holds_until_the_configuration_moves_the_subscriber(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink
) -> None:
    """Analyste keeps only the rule "ia" (the stories match "demarchage"): from the next tick it
    gets none of them; once the configuration gives it a new address, its configuration holds."""
    clock = FakeClock()
    story = Story(feeds, clock)
    port = int(sink.controller.port)
    config = _config(tmp_path, f"{feeds.url}/f", port)
    async with App(config, clock=clock) as app:
        book = SubscriberBook(app.store.engine)
        await book.choose("analyste", "a@example.ma", {"rules": ["ia"]}, clock.now)
        await app.tick()
        assert app.config.subscribers[0].rules == ["ia"]
        await play_round(app, story, clock)
        assert to(sink, "a@example.ma") == [] and len(to(sink, "b@example.ma")) == 1
        await app.reload(config)  # the same address: the choice holds
        await play_round(app, story, clock)
        assert to(sink, "a@example.ma") == []
        moved = config.model_copy(
            update={
                "subscribers": [
                    config.subscribers[0].model_copy(update={"email": "new@example.ma"}),
                    config.subscribers[1],
                ]
            }
        )
        await app.reload(moved)
        assert app.config.subscribers[0].rules is None  # every rule, as configured
        assert await book.choices() == []
        await play_round(app, story, clock)
        assert [episodes(m) for m in to(sink, "new@example.ma")] == [[2]]


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("where", ["here", "elsewhere"])
async def test_one_who_comes_back_after_unsubscribing_is_served_again(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, backend: str, where: str
) -> None:
    """An unsubscription (by this replica's link, or on another replica: every replica learns
    of it within a tick) stops the digests; signing up again on another replica brings them
    back from the next tick (review of issue 24: they were lost for good)."""
    clock = FakeClock()
    story = Story(feeds, clock)
    async with fresh_storage(backend, tmp_path) as storage:
        config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port), storage)
        async with App(config, clock=clock) as app:
            other = await open_engine(config.storage)  # as another replica would write it
            try:
                await _leave_and_come_back(app, SubscriberBook(other), where, story, clock, sink)
            finally:
                await other.dispose()


async def _leave_and_come_back(
    app: App, elsewhere: SubscriberBook, where: str, story: Story, clock: FakeClock, sink: SmtpSink
) -> None:
    async def sign_up() -> tuple[str, bool]:
        return await elsewhere.sign_up(
            "z@example.ma", clock.now, rules=["demarchage"], digest="immediate", language="en"
        )

    name, _ = await sign_up()
    await app.tick()
    await play_round(app, story, clock)
    assert [episodes(m) for m in to(sink, "z@example.ma")] == [[0]]
    before = await elsewhere.generation()
    if where == "here":
        tag = address_tag(app.token_key, "z@example.ma")
        left = await app.unsubscribe(TokenClaim(name, clock.now, Purpose.UNSUBSCRIBE, tag))
    else:
        left = await Standing(elsewhere.engine).unsubscribe(name, clock.now, lambda *_: True)
    assert left is Unsubscription.DONE
    assert await elsewhere.generation() != before  # every replica reads it again
    await app.tick()
    await play_round(app, story, clock)
    assert len(to(sink, "z@example.ma")) == 1  # nothing after it left
    _, back = await sign_up()
    assert back
    await app.tick()
    await play_round(app, story, clock)
    await play_round(app, story, clock)
    assert [episodes(m) for m in to(sink, "z@example.ma")] == [[0], [2], [3]]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_hourly_prune_forgets_sign_ups_nobody_confirmed(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, backend: str
) -> None:
    """An address nobody confirmed is not kept past its link's life, even when no later
    sign-up comes to purge it (review of issue 24)."""
    clock = FakeClock()
    async with fresh_storage(backend, tmp_path) as storage:
        config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port), storage)
        async with App(config, clock=clock) as app:
            signups = Signups(app.store.engine)
            asked = Requested("z@example.ma", ("demarchage",), "immediate", "en")
            assert await signups.request(asked, "code", clock.now)
            clock.advance(PENDING - timedelta(minutes=1))
            await app.prune()
            assert await signups.pending("code", clock.now) == asked
            clock.advance(timedelta(minutes=2))
            await app.prune()
            async with reading(app.store.engine) as conn:
                left = await conn.scalar(select(func.count()).select_from(signup_requests))
            assert left == 0
