"""The sign-up pages as the daemon serves them (monitor.daemon.serving), on SQLite and
PostgreSQL: present with ``http.signup`` alone (no analysts' app), absent without it; a
visitor who signs up and confirms is then a subscriber the daemon and ``monitor subscribers``
know."""

from __future__ import annotations

import asyncio
import html
import io
from contextlib import redirect_stdout
from email.message import EmailMessage
from pathlib import Path

import aiohttp

from monitor.cli.commands import subscribers_command
from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.daemon.serving import serve_http
from tests.support.peers import FakeClock, SmtpSink
from tests.support.signing_up import link_in, signup_config
from tests.support.webapp import csrf_of

CHOSEN = {"address": "lecteur@example.ma", "rule": "demarchage", "schedule": "daily",
          "time": "07:15", "day": "mon", "language": "en"}  # fmt: skip


def daemon_config(storage: str, sink: SmtpSink, signup: bool = True) -> Config:
    config = signup_config(int(sink.controller.port))
    assert config.http is not None
    http = config.http if signup else config.http.model_copy(update={"signup": None})
    return config.model_copy(update={"storage": storage, "sources": [], "http": http})


async def received(sink: SmtpSink, count: int) -> list[EmailMessage]:
    for _ in range(500):  # (the email goes in the background: at most 5 s)
        if len(sink.messages) >= count:
            break
        await asyncio.sleep(0.01)
    return sink.messages


async def test_without_http_signup_no_route_of_it_exists(tmp_path: Path, sink: SmtpSink) -> None:
    config = daemon_config(f"sqlite:///{tmp_path}/m.db", sink, signup=False)
    async with App(config, clock=FakeClock()) as app:
        port = await serve_http(app)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as client:
            for path in ("/subscribe", "/subscribe/confirm/x", "/static/app.css"):
                async with client.get(path) as answer:
                    assert answer.status == 404, path
            async with client.post("/subscribe", data={"address": "a@b.ma"}) as answer:
                assert answer.status in (404, 405)


async def test_the_daemon_signs_up_a_subscriber_without_the_app(
    storage: str, sink: SmtpSink
) -> None:
    config = daemon_config(storage, sink)
    jar = aiohttp.CookieJar(unsafe=True)
    async with App(config, clock=FakeClock()) as app:
        port = await serve_http(app)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as client:
            for path, status in [("/", 404), ("/login", 404), ("/static/app.css", 200)]:
                async with client.get(path) as answer:
                    assert answer.status == status, path
            async with client.get("/subscribe?lang=en") as form:
                token = csrf_of(await form.text())
            data = {**CHOSEN, "csrf": token}
            async with client.post("/subscribe", data=data) as answer:
                assert answer.status == 200
            (mail,) = await received(sink, 1)
            path = link_in(str(mail.get_body(("plain",)).get_content()))  # type: ignore[union-attr]
            async with client.get(path) as page:
                token = csrf_of(await page.text())
            async with client.post(path, data={"csrf": token}) as done:
                assert "Done" in html.unescape(await done.text())
        await app.follow_subscribers()  # (each tick on every replica)
        names = [s.name for s in app.config.subscribers]
        assert names[0] == "analyste" and names[1].startswith("signup:")
    out = io.StringIO()
    with redirect_stdout(out):
        assert await subscribers_command(config) == 0
    line = next(line for line in out.getvalue().splitlines() if "lecteur@example.ma" in line)
    assert "signed up" in line and "rules: demarchage" in line and "daily 07:15" in line
