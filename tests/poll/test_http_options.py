"""A source's headers, user agent and credentials through a whole poll: they open its own feed,
and go to no page or feed on another origin (article pages, feeds a home page announces)."""

from __future__ import annotations

import base64
import logging
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from monitor.cli.status import status_command
from monitor.daemon.app import App
from tests.support.daemon import sources_config, webhook_subscriber
from tests.support.origins import Origin, basic, html
from tests.support.peers import FakeClock, WebhookReceiver, rss
from tests.support.proxy import ForwardProxy

UA = "Veille/2.0"
AUTH = basic("veille", "CanaryPass-47")
PRIVATE = ("authorization", "x-api-key")


def dressed(name: str, url: str, extra: str = "") -> str:
    return (
        f"  - name: {name}\n    url: {url}\n{extra}    user_agent: {UA}\n"
        "    headers: {X-Api-Key: k-123456}\n    username: veille\n    password: CanaryPass-47\n"
    )


def wanting() -> Origin:
    return Origin(wants={"x-api-key": "k-123456", "user-agent": UA, "authorization": AUTH})


async def test_article_pages_get_the_credentials_on_the_source_s_origin_only(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    recent = clock.now - timedelta(hours=1)
    page = html("<html><body><article><p>Un article.</p></article></body></html>")
    async with wanting() as site, Origin() as elsewhere:
        items = [
            {"guid": "1", "title": "Ici", "link": f"{site.url}/a/1", "published": recent},
            {"guid": "2", "title": "Ailleurs", "link": f"{elsewhere.url}/a/2", "published": recent},
        ]
        site.pages["/feed"] = lambda origin: web.Response(
            body=rss(items), content_type="application/rss+xml"
        )
        site.pages["/a/1"] = elsewhere.pages["/a/2"] = page
        source = dressed("eco", f"{site.url}/feed", "    fetch_article: true\n")
        config = sources_config(tmp_path, source, webhook_subscriber(receiver.url))
        async with App(config, clock=clock) as app:
            await app.run_once()
            state = (await app.store.states(["eco"]))["eco"]
    assert (state.last_result, state.last_new_items) == ("ok", 2)
    (own,) = site.headers_at("/a/1")
    assert own["authorization"] == AUTH and own["x-api-key"] == "k-123456"
    (other,) = elsewhere.headers_at("/a/2")
    assert not set(PRIVATE) & set(other) and other["user-agent"] == UA


async def test_a_feed_announced_on_another_origin_gets_no_credentials(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    clock = FakeClock()
    async with wanting() as site, Origin() as elsewhere:
        link = f'<link rel="alternate" type="application/rss+xml" href="{elsewhere.url}/rss">'
        site.pages["/"] = html(f"<!doctype html><html><head>{link}</head><body></body></html>")
        source = dressed("home", f"{site.url}/", "    kind: auto\n")
        config = sources_config(tmp_path, source, webhook_subscriber(receiver.url))
        async with App(config, clock=clock) as app:
            await app.run_once()
            state = (await app.store.states(["home"]))["home"]
    assert state.last_result == "ok" and state.url == f"{elsewhere.url}/rss"
    (home,) = site.headers_at("/")
    assert home["authorization"] == AUTH
    (feed,) = elsewhere.headers_at("/rss")
    assert not set(PRIVATE) & set(feed) and feed["user-agent"] == UA


CANARIES = ("CanaryHeader-31", "CanaryPass-47", "CanaryProxy-59")


def forms(secret: str) -> list[str]:
    """A secret and the base64 forms Basic auth puts on the wire."""
    encoded = [
        base64.b64encode(f"{user}:{secret}".encode()).decode() for user in ("veille", "corp")
    ]
    return [secret, *encoded]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_failing_polls_show_no_secret_in_logs_errors_or_status(
    tmp_path: Path,
    receiver: WebhookReceiver,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = FakeClock()
    secret = f"    headers: {{X-Custom: {CANARIES[0]}}}\n    username: veille\n"
    secret += f"    password: {CANARIES[1]}\n"
    async with Origin(wants={"x-custom": "other"}) as site, ForwardProxy(credentials="x") as proxy:
        refusing = f"http://corp:{CANARIES[2]}@127.0.0.1:{proxy.port}"
        down = f"http://corp:{CANARIES[2]}@127.0.0.1:{closed_port()}"
        sources = (
            f"  - name: denied\n    url: {site.url}/feed\n{secret}"
            f"  - name: refused\n    url: {site.url}/feed\n{secret}    proxy: {refusing}\n"
            f"  - name: down\n    url: {site.url}/feed\n{secret}    proxy: {down}\n"
        )
        config = sources_config(tmp_path, sources, webhook_subscriber(receiver.url))
        caplog.set_level(logging.DEBUG)
        async with App(config, clock=clock) as app:
            polls, _ = await app.run_once()
        await status_command(config, clock)
    assert {poll.source: poll.result for poll in polls} == dict.fromkeys(
        ("denied", "refused", "down"), "error"
    )
    out, err = capsys.readouterr()
    errors = {poll.source: poll.error or "" for poll in polls}
    assert "401" in errors["denied"] and "407" in errors["refused"]
    assert "cannot connect to the proxy" in errors["down"]
    assert "poll" in caplog.text and "401" in caplog.text  # the failures were logged
    shown = "\n".join([out, err, caplog.text, *errors.values()])
    assert not [form for secret in CANARIES for form in forms(secret) if form in shown]
