"""The apprise notifier against real peers on loopback: an aiohttp receiver for Apprise's
``json://`` and ``form://`` URLs, aiosmtpd for ``mailto://``, and the whole daemon."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
import logging
import socket
import sys
import traceback
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from monitor.config.load import parse_config
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import ConfigError, PermanentNotifyError, TransientNotifyError
from monitor.core.models import Digest, DigestItem
from monitor.daemon.app import App
from monitor.digest.render import Renderer
from monitor.net.guard import GuardedConnector
from monitor.notifiers import build_notifier
from monitor.notifiers.apprise import AppriseNotifier, load_service
from monitor.notifiers.base import NotifierContext
from tests.support.peers import FakeClock, FeedServer, Resource, SmtpSink, WebhookReceiver, rss

CANARY = "CanaryT0ken9d2f"  # stands for a service token; must never be shown


@dataclass
class Receiver:
    """Records each POST; answers ``status`` (a 3xx points at /elsewhere); ``gate`` holds it."""

    status: int = 200
    gate: asyncio.Event | None = None
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    elsewhere_hits: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def hook(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers), await request.read()))
        self.arrived.set()
        if self.gate is not None:
            await self.gate.wait()
        if 300 <= self.status < 400:
            return web.Response(status=self.status, headers={"Location": "/elsewhere"})
        return web.Response(status=self.status, text="ok")

    async def elsewhere(self, request: web.Request) -> web.Response:
        self.elsewhere_hits += 1
        return web.Response(status=200)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def server(receiver: Receiver) -> AsyncIterator[str]:
    """``127.0.0.1:PORT`` of the receiver."""
    app = web.Application()
    app.router.add_route("*", "/elsewhere", receiver.elsewhere)
    app.router.add_post("/{path:.*}", receiver.hook)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield f"127.0.0.1:{test_server.port}"
    finally:
        if receiver.gate is not None:
            receiver.gate.set()  # a held request answers, so the server closes cleanly
        await test_server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = sink.start()
    yield sink, port
    sink.stop()


def notifier(url: str, session: aiohttp.ClientSession, timeout: float = 30.0) -> AppriseNotifier:
    context = NotifierContext(
        renderer=Renderer(ZoneInfo("UTC")),
        smtp=None,
        session=session,
        stdout=io.StringIO(),
        timeout=timeout,
    )
    built = build_notifier(SubscriberConfig(name="ops", apprise=SecretStr(url)), context)
    assert isinstance(built, AppriseNotifier)
    return built


def make_digest() -> Digest:
    return Digest(
        id="dg_7",
        subscriber="ops",
        created=datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
        items=(
            DigestItem(
                id="it_1",
                title="Le démarchage téléphonique interdit",
                link="https://leseco.ma/a/1",
                source="leseco",
                published=datetime(2026, 11, 26, 6, 30, tzinfo=UTC),
                summary="Les centres d’appels s’adaptent.",
                rules=("demarchage",),
                terms={"demarchage": ("démarchage",)},
            ),
            DigestItem(
                id="it_2",
                title="L'IA au service du client",
                link="https://medias24.com/b/2",
                source="medias24",
                published=None,
                summary="",
                rules=("ia",),
                terms={"ia": ("IA",)},
            ),
        ),
    )


def fields_of(headers: dict[str, str], body: bytes) -> dict[str, str]:
    """Title and message of a json:// or form:// request."""
    if headers["Content-Type"].startswith("application/json"):
        document = json.loads(body)
        return {"title": document["title"], "message": document["message"]}
    form = parse_qs(body.decode())
    return {"title": form["title"][0], "message": form["message"][0]}


@contextmanager
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that is bound but not listening: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record, but the test receiver's own access log (it shows the paths it serves)."""
    return "\n".join(
        caplog.handler.format(record)
        for record in caplog.records
        if record.name != "aiohttp.access"
    )


def stored_bytes(folder: Path) -> bytes:
    """Everything written under ``folder``: the database, its journal, its WAL."""
    return b"".join(path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file())


def shows_canary(error: BaseException) -> bool:
    return CANARY in "".join(traceback.format_exception(error)) or CANARY in repr(error.args)


@pytest.mark.parametrize("scheme", ["json", "form"])
async def test_title_is_the_subject_and_body_the_text(
    scheme: str, server: str, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    sender = notifier(f"{scheme}://{server}/hook", session)
    digest = make_digest()
    await sender.send(digest)

    [(path, headers, body)] = receiver.requests
    assert path == "/hook"
    sent = fields_of(headers, body)
    assert sent["title"] == Renderer(ZoneInfo("UTC")).subject(digest)
    assert sent["message"] == Renderer(ZoneInfo("UTC")).text(digest).rstrip()
    for text in ("Le démarchage téléphonique interdit", "https://medias24.com/b/2", "leseco"):
        assert text in sent["message"]
    assert "<" not in sent["message"]


async def test_html_when_the_url_asks_the_service_for_html(
    server: str, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    await notifier(f"json://{server}/hook?format=html", session).send(make_digest())
    [(_, headers, body)] = receiver.requests
    message = fields_of(headers, body)["message"]
    assert message == Renderer(ZoneInfo("UTC")).html(make_digest()).rstrip()
    assert 'href="https://leseco.ma/a/1"' in message


async def test_email_through_mailto_has_the_html_and_a_text_part(
    smtp: tuple[SmtpSink, int], session: aiohttp.ClientSession
) -> None:
    sink, port = smtp
    url = f"mailto://127.0.0.1:{port}?from=monitor@example.org&to=ops@example.org"
    await notifier(url, session).send(make_digest())

    [message] = sink.messages
    assert message["Subject"] == Renderer(ZoneInfo("UTC")).subject(make_digest())
    assert message["To"] == "ops@example.org"
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None and text is not None
    assert 'href="https://leseco.ma/a/1"' in html.get_content()
    assert "Le démarchage téléphonique interdit" in text.get_content()


@pytest.mark.parametrize("status", [500, 503, 404, 302])
async def test_a_refusal_is_transient_and_the_retry_delivers(
    status: int, server: str, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    sender = notifier(f"json://{server}/hook", session)
    receiver.status = status
    with pytest.raises(TransientNotifyError, match=rf"apprise ops \(json\): .*{status}"):
        await sender.send(make_digest())
    assert receiver.elsewhere_hits == 0  # a redirect is not followed

    receiver.status = 200
    await sender.send(make_digest())
    assert len(receiver.requests) == 2
    assert receiver.requests[0][2] == receiver.requests[1][2]


async def test_a_closed_port_is_transient(session: aiohttp.ClientSession) -> None:
    with closed_port() as port:  # bound, never listening: the connection is refused
        with pytest.raises(TransientNotifyError, match=r"apprise ops \(json\): not delivered"):
            await notifier(f"json://127.0.0.1:{port}/hook", session).send(make_digest())


@pytest.mark.slow
async def test_send_does_not_block_the_loop_and_times_out(
    server: str, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.gate = asyncio.Event()
    task = asyncio.create_task(notifier(f"json://{server}/hook", session, 0.5).send(make_digest()))
    # the receiver runs on this loop: it sees the request only if the send does not block it
    async with asyncio.timeout(10):
        await receiver.arrived.wait()
    assert not task.done()
    with pytest.raises(TransientNotifyError, match=r"apprise ops \(json\): timed out"):
        await task


@pytest.mark.parametrize(
    ("allow", "delivered"), [([], False), (["10.0.0.0/8"], False), (["127.0.0.0/8"], True)]
)
async def test_network_allow_guards_the_server_of_the_url(
    allow: list[str], delivered: bool, server: str, receiver: Receiver
) -> None:
    networks = [ipaddress.ip_network(net) for net in allow]
    async with aiohttp.ClientSession(connector=GuardedConnector(allow=networks)) as guarded:
        sender = notifier(f"json://{server}/hook", guarded)
        if delivered:
            await sender.send(make_digest())
        else:
            with pytest.raises(PermanentNotifyError, match="address refused"):
                await sender.send(make_digest())
    assert len(receiver.requests) == (1 if delivered else 0)


async def test_network_allow_guards_the_smtp_server(smtp: tuple[SmtpSink, int]) -> None:
    sink, port = smtp
    url = f"mailto://user@example.org?smtp=127.0.0.1&port={port}&to=ops@example.org"
    async with aiohttp.ClientSession(connector=GuardedConnector(allow=[])) as guarded:
        with pytest.raises(PermanentNotifyError, match=r"apprise ops \(mailto\): address refused"):
            await notifier(url, guarded).send(make_digest())
    assert sink.messages == []


@pytest.mark.parametrize(
    "url",
    [
        f"nosuchservice://{CANARY}@example.org/x",
        "json://",
        f"{CANARY} is not a URL",
        f"json://127.0.0.1/{CANARY} json://127.0.0.1/other",
        f"mailto://{CANARY}",
    ],
)
def test_an_unusable_url_is_a_config_error_that_hides_it(
    url: str, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError, match=r"subscribers\.ops\.apprise: ") as raised:
        notifier(url, session)
    assert not shows_canary(raised.value)
    assert CANARY not in logged(caplog)


@pytest.mark.parametrize(
    ("url", "usable"), [("ntfy://ntfy.example.org/alerts", True), ("gotify://", False)]
)
def test_the_url_can_be_checked_without_a_session(url: str, usable: bool) -> None:
    subscriber = SubscriberConfig(name="ops", apprise=SecretStr(url))
    if usable:
        assert len(load_service(subscriber)) == 1
    else:
        with pytest.raises(ConfigError, match=r"subscribers\.ops\.apprise: .*\(gotify://\)"):
            load_service(subscriber)


def test_without_apprise_installed_the_channel_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, session: aiohttp.ClientSession
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # what an absent package looks like
    with pytest.raises(ConfigError, match=r"pip install 'monitor\[apprise\]'"):
        notifier("json://127.0.0.1/hook", session)


@pytest.mark.parametrize("status", [200, 500])
async def test_the_token_never_reaches_logs_or_errors(
    status: int,
    server: str,
    receiver: Receiver,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.status = status
    url = f"json://user:{CANARY}@{server}/hook/{CANARY}?-token={CANARY}"
    try:
        await notifier(url, session).send(make_digest())
    except TransientNotifyError as exc:
        assert status != 200
        assert not shows_canary(exc)
        assert "500" in str(exc)  # Apprise's reason is kept when it shows nothing of the URL
    with closed_port() as port:
        with pytest.raises(TransientNotifyError) as raised:
            await notifier(url.replace(server, f"127.0.0.1:{port}"), session).send(make_digest())
    assert not shows_canary(raised.value)
    [(path, _, _)] = receiver.requests
    assert CANARY in path  # the token did its job, and went nowhere else
    assert CANARY not in logged(caplog)
    out, err = capsys.readouterr()
    assert CANARY not in out + err


# ---- the whole daemon --------------------------------------------------------------------

CONFIG = """\
storage: sqlite:///{db}
timezone: Africa/Casablanca
network:
  allow: [127.0.0.0/8]
  timeout: 5s
sources:
  - name: eco
    url: {feed}
rules:
  - name: demarchage
    any: ["démarchage"]
subscribers:
  - name: team
    apprise: ${{APPRISE_URL}}
    digest: immediate
"""


@pytest.mark.slow
async def test_daemon_retries_an_apprise_digest_with_the_outbox_until_accepted(
    tmp_path: Path,
    feeds: FeedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    feeds.resources["/feed"] = Resource(
        rss(
            [
                {
                    "guid": "a1",
                    "title": "Le démarchage téléphonique interdit",
                    "link": "https://x.ma/a1",
                    "published": clock.now - timedelta(hours=1),
                },
                {"guid": "a2", "title": "Météo", "link": "https://x.ma/a2"},
            ]
        )
    )
    hook = WebhookReceiver(statuses=[500])
    await hook.start()
    try:
        apprise_url = hook.url.replace("http://", "json://") + f"/team/{CANARY}"
        text = CONFIG.format(db=tmp_path / "monitor.db", feed=f"{feeds.url}/feed")
        config = parse_config(text, "test.yaml", {"APPRISE_URL": apprise_url})
        stdout = io.StringIO()
        async with App(config, clock=clock, stdout=stdout) as app:
            _, first = await app.run_once()
        clock.advance(timedelta(hours=3))  # past the outbox's backoff
        async with App(config, clock=clock, stdout=stdout) as app:
            _, second = await app.run_once()
    finally:
        await hook.close()

    assert [r.result for r in first] == ["retry"]
    assert [r.result for r in second] == ["sent"]
    assert hook.answers == [500, 200]
    message = json.loads(hook.requests[1].body)["message"]
    assert "Le démarchage téléphonique interdit" in message
    assert "Météo" not in message
    assert CANARY not in logged(caplog) + stdout.getvalue()
    assert CANARY.encode() not in stored_bytes(tmp_path)
