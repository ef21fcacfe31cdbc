"""One-click unsubscribe (RFC 8058): signed tokens, the HTTP server, and a real App sending
email digests to aiosmtpd that stop for good once the subscriber unsubscribed."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from monitor.cli.status import status_command
from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.daemon.forever import run_forever
from monitor.daemon.serving import serve_http
from monitor.web.unsubscribe import (
    TOKEN_LIFETIME,
    TokenError,
    check_token,
    make_legacy_token,
    make_token,
)
from tests.support.daemon import build_config
from tests.support.episodes import Story, play_round
from tests.support.peers import FakeClock, FeedServer, SmtpSink

KEY = b"k" * 32
A = "a@example.ma"  # analyste's address
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def test_token_round_trip() -> None:
    clock = FakeClock()
    token = make_token(KEY, "analyste.fr", "a@example.ma", clock.now)
    claim = check_token(KEY, token, clock.now + timedelta(days=3))
    assert (claim.subscriber, claim.issued) == ("analyste.fr", clock.now)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


def _flip(token: str) -> str:
    return token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]


@pytest.mark.parametrize(
    ("mangle", "age", "status"),
    [
        (lambda t: make_token(b"x" * 32, "analyste", A, FakeClock().now), timedelta(0), 400),
        (_flip, timedelta(0), 400),
        (lambda t: t[:20], timedelta(0), 400),
        (lambda t: "%%%", timedelta(0), 400),
        (lambda t: "", timedelta(0), 400),
        (lambda t: t, TOKEN_LIFETIME + timedelta(seconds=1), 410),
        (lambda t: t, -timedelta(hours=1), 400),  # issued in the future
    ],
    ids=["other-key", "flipped", "truncated", "garbage", "empty", "expired", "future"],
)
def test_forged_or_expired_tokens_are_refused(mangle: object, age: timedelta, status: int) -> None:
    clock = FakeClock()
    token = mangle(make_token(KEY, "analyste", "a@example.ma", clock.now))  # type: ignore[operator]
    with pytest.raises(TokenError) as caught:
        check_token(KEY, token, clock.now + age)
    assert caught.value.status == status


def _config(tmp_path: Path, feed_url: str, smtp_port: int, address: str = "a@example.ma") -> Config:
    extra = (
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n  security: none\n"
        '  from: "Veille <veille@example.ma>"\n'
        "http:\n  listen: 127.0.0.1:0\n  base_url: https://veille.example.com/\n"
    )
    subscribers = (
        f"  - name: analyste\n    email: {address}\n    digest: immediate\n"
        "  - name: other\n    email: b@example.ma\n    digest: immediate\n"
    )
    return build_config(tmp_path, {"f": feed_url}, subscribers, extra)


def _recipients(sink: SmtpSink) -> list[str]:
    return [str(m["To"]) for m in sink.messages]


def _local(url: str, port: int) -> str:
    return url.replace("https://veille.example.com", f"http://127.0.0.1:{port}")


@pytest.mark.slow
async def test_one_click_unsubscribe_end_to_end(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    clock, port = FakeClock(), int(sink.controller.port)
    story = Story(feeds, clock)
    config = _config(tmp_path, f"{feeds.url}/f", port)
    async with App(config, clock=clock) as app:
        http_port = await serve_http(app)
        assert http_port
        await play_round(app, story, clock)
        assert sorted(_recipients(sink)) == ["a@example.ma", "b@example.ma"]
        mail = next(m for m in sink.messages if m["To"] == "a@example.ma")
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        header = " ".join(str(mail["List-Unsubscribe"]).split())
        found = re.match(r"<(https://veille\.example\.com/unsubscribe/[\w-]+)>, <mailto:", header)
        assert found, header
        url = _local(found.group(1), http_port)

        async with client.get(url) as reply:  # a GET (a link scanner) changes nothing
            assert reply.status == 200
            assert 'method="post"' in await reply.text()
        await play_round(app, story, clock)
        assert _recipients(sink).count("a@example.ma") == 2

        bad = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
        async with client.post(bad, data=ONE_CLICK) as reply:
            assert reply.status == 400
        async with client.post(url, data={"other": "x"}) as reply:
            assert reply.status == 400
        async with client.get(f"http://127.0.0.1:{http_port}/elsewhere") as reply:
            assert reply.status == 404
        await play_round(app, story, clock)
        assert _recipients(sink).count("a@example.ma") == 3

        async with client.post(url, data=ONE_CLICK) as reply:
            assert reply.status == 200
        async with client.post(url, data=ONE_CLICK) as reply:  # a second click is harmless
            assert reply.status == 200
        await play_round(app, story, clock)
        await app.reload(config)  # the same configuration does not resubscribe
        await play_round(app, story, clock)
    assert _recipients(sink).count("a@example.ma") == 3
    assert _recipients(sink).count("b@example.ma") == 5

    async with App(config, clock=clock) as app:  # a restart remembers it
        await play_round(app, story, clock)
    assert _recipients(sink).count("a@example.ma") == 3
    assert _recipients(sink).count("b@example.ma") == 6

    out = io.StringIO()
    with redirect_stdout(out):
        await status_command(config, clock)
    line = next(li for li in out.getvalue().splitlines() if "subscriber analyste" in li)
    assert "unsubscribed since" in line
    assert "subscriber other" in out.getvalue()

    # a new address in the configuration is a new subscription
    moved = _config(tmp_path, f"{feeds.url}/f", port, address="new@example.ma")
    async with App(moved, clock=clock) as app:
        await play_round(app, story, clock)
    assert _recipients(sink).count("new@example.ma") == 1


@pytest.mark.slow
async def test_expired_link_is_410_and_changes_nothing(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    async with App(config, clock=clock) as app:
        http_port = await serve_http(app)
        assert http_port
        stale = make_token(app.token_key, "analyste", A, clock.now - TOKEN_LIFETIME * 2)
        url = f"http://127.0.0.1:{http_port}/unsubscribe/{stale}"
        async with client.post(url, data=ONE_CLICK) as reply:
            assert reply.status == 410
        unknown = make_token(app.token_key, "nobody", "a@example.ma", clock.now)
        url = f"http://127.0.0.1:{http_port}/unsubscribe/{unknown}"
        async with client.post(url, data=ONE_CLICK) as reply:
            assert reply.status == 404
        await play_round(app, story, clock)
    assert sorted(_recipients(sink)) == ["a@example.ma", "b@example.ma"]


@pytest.mark.slow
async def test_a_link_sent_to_an_old_address_never_unsubscribes_the_new_one(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    """The security probe of issue 24: the configuration moves ``analyste`` to a new address;
    the links sent to the old one (legacy or current format) change nothing (400)."""
    clock = FakeClock()
    story = Story(feeds, clock)
    port = int(sink.controller.port)
    config = _config(tmp_path, f"{feeds.url}/f", port)
    async with App(config, clock=clock) as app:
        http_port = await serve_http(app)
        base = f"http://127.0.0.1:{http_port}/unsubscribe"
        key = app.token_key
        clock.advance(timedelta(hours=1))
        legacy = make_legacy_token(key, "analyste", clock.now)  # sent before the move
        old = make_token(key, "analyste", "a@example.ma", clock.now)
        clock.advance(timedelta(hours=1))
        await app.reload(_config(tmp_path, f"{feeds.url}/f", port, address="new@example.ma"))
        clock.advance(timedelta(hours=1))
        for token in (legacy, old):
            async with client.get(f"{base}/{token}") as reply:  # no button to press
                assert reply.status == 400
                assert 'method="post"' not in await reply.text()
            async with client.post(f"{base}/{token}", data=ONE_CLICK) as reply:
                assert reply.status == 400
                assert "another address" in await reply.text()
        await play_round(app, story, clock)
        assert sorted(_recipients(sink)) == ["b@example.ma", "new@example.ma"]
        # the new address's own link works
        new = make_token(key, "analyste", "new@example.ma", clock.now)
        async with client.post(f"{base}/{new}", data=ONE_CLICK) as reply:
            assert reply.status == 200
        await play_round(app, story, clock)
    assert _recipients(sink).count("new@example.ma") == 1


@pytest.mark.slow
async def test_a_legacy_link_still_unsubscribes_an_unchanged_address(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    """RFC 8058 one-click keeps working for the links already in mailboxes."""
    clock = FakeClock()
    story = Story(feeds, clock)
    config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    async with App(config, clock=clock) as app:
        http_port = await serve_http(app)
        clock.advance(timedelta(days=3))
        legacy = make_legacy_token(app.token_key, "analyste", clock.now)
        clock.advance(timedelta(days=3))
        await app.reload(config)  # the same address: nothing recorded as changed
        url = f"http://127.0.0.1:{http_port}/unsubscribe/{legacy}"
        async with client.post(url, data=ONE_CLICK) as reply:
            assert reply.status == 200
        await play_round(app, story, clock)
    assert _recipients(sink) == ["b@example.ma"]


@pytest.mark.slow
async def test_without_http_section_mail_keeps_mailto_only(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink
) -> None:
    clock = FakeClock()
    story = Story(feeds, clock)
    config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    config = config.model_copy(update={"http": None})
    async with App(config, clock=clock) as app:
        assert await serve_http(app) is None
        await play_round(app, story, clock)
    mail = sink.messages[0]
    assert str(mail["List-Unsubscribe"]).startswith("<mailto:veille@example.ma?subject=")
    assert mail["List-Unsubscribe-Post"] is None


async def test_run_forever_serves_until_stopped(
    tmp_path: Path, feeds: FeedServer, sink: SmtpSink, client: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    config = _config(tmp_path, f"{feeds.url}/f", int(sink.controller.port))
    config = config.model_copy(update={"sources": []})
    stop = asyncio.Event()
    async with App(config, clock=clock) as app:
        task = asyncio.create_task(run_forever(app, stop))
        await app.serving.wait()
        assert app.web is not None
        token = make_token(app.token_key, "analyste", "a@example.ma", clock.now)
        url = f"http://127.0.0.1:{app.web.port}/unsubscribe/{token}"
        async with client.get(url) as reply:
            assert reply.status == 200
        stop.set()
        await task
        with pytest.raises(aiohttp.ClientConnectionError):
            async with client.get(url):
                pass
