"""The webhook notifier against an aiohttp receiver on loopback (DESIGN §3.5, D4)."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from standardwebhooks import Webhook

from monitor.config.sections import NetworkConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import (
    ConfigError,
    NotifyError,
    PermanentNotifyError,
    ReceiverGone,
    TransientNotifyError,
)
from monitor.core.models import Digest, DigestItem, Hit
from monitor.digest.render import Renderer
from monitor.net.guard import GuardedConnector
from monitor.net.http import HttpClient
from monitor.notifiers import build_notifier, webhook
from monitor.notifiers.base import Notifier, NotifierContext
from monitor.notifiers.webhook import WebhookNotifier
from tests.support.proxy import ForwardProxy

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class Receiver:
    """Records each request; answers with ``status`` (a 3xx points at /elsewhere).

    ``hang`` holds the first ``hang_count`` requests until it is set."""

    status: int = 200
    text: str = "ok"  # the body of each answer
    hang: asyncio.Event | None = None
    hang_count: int = 1_000_000
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    elsewhere_hits: int = 0

    async def hook(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        if self.hang is not None and len(self.requests) <= self.hang_count:
            await self.hang.wait()
        if 300 <= self.status < 400:
            return web.Response(status=self.status, headers={"Location": "/elsewhere"})
        return web.Response(status=self.status, text=self.text)

    async def elsewhere(self, request: web.Request) -> web.Response:
        self.elsewhere_hits += 1
        return web.Response(status=200)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def server(receiver: Receiver) -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_post("/hook", receiver.hook)
    app.router.add_route("*", "/elsewhere", receiver.elsewhere)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield test_server
    finally:
        if receiver.hang is not None:
            receiver.hang.set()  # let a hanging handler finish so the server closes cleanly
        await test_server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def webhook_notifier(
    url: str, session: aiohttp.ClientSession, secret: str | None = SECRET, timeout: float = 30.0
) -> Notifier:
    context = NotifierContext(
        renderer=Renderer(ZoneInfo("UTC")),
        smtp=None,
        session=session,
        stdout=io.StringIO(),
        timeout=timeout,
    )
    subscriber = SubscriberConfig.model_validate({"name": "ops", "webhook": url, "secret": secret})
    notifier = build_notifier(subscriber, context)
    assert isinstance(notifier, WebhookNotifier)
    return notifier


def make_digest(digest_id: str = "dg_42") -> Digest:
    return Digest(
        id=digest_id,
        subscriber="ops",
        created=datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC),
        items=(
            DigestItem(
                id="it_1",
                title="Le démarchage « interdit »",
                link="https://leseco.ma/a/1",
                source="leseco",
                published=datetime(2026, 11, 26, 6, 30, tzinfo=UTC),
                summary="Les centres d’appel s’adaptent.",
                rules=("demarchage", "centres"),
                terms={"demarchage": ("démarchage",), "centres": ("centres d'appels",)},
                hits=(
                    ("demarchage", Hit("démarchage", "title", 3, 13)),
                    ("centres", Hit("centres d'appels", "summary", 4, 19)),
                ),
            ),
            DigestItem(
                id="it_2",
                title="Sans date",
                link="",
                source="medias24",
                published=None,
                summary="",
                rules=("ia",),
                terms={"ia": ("IA",)},
            ),
        ),
    )


EXPECTED_BODY: dict[str, Any] = {
    "type": "digest",
    "id": "dg_42",
    "subscriber": "ops",
    "created": "2026-11-26T08:00:00Z",
    "items": [
        {
            "id": "it_1",
            "title": "Le démarchage « interdit »",
            "link": "https://leseco.ma/a/1",
            "source": "leseco",
            "published": "2026-11-26T06:30:00Z",
            "summary": "Les centres d’appel s’adaptent.",
            "rules": ["demarchage", "centres"],
            "terms": {"demarchage": ["démarchage"], "centres": ["centres d'appels"]},
            "explain": {
                "demarchage": [{"term": "démarchage", "field": "title", "start": 3, "end": 13}],
                "centres": [
                    {"term": "centres d'appels", "field": "summary", "start": 4, "end": 19}
                ],
            },
        },
        {
            "id": "it_2",
            "title": "Sans date",
            "link": "",
            "source": "medias24",
            "published": None,
            "summary": "",
            "rules": ["ia"],
            "terms": {"ia": ["IA"]},
            "explain": {"ia": []},  # a delivery recorded before explanations were kept
        },
    ],
}


async def test_posts_the_digest_as_signed_json(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    answer = await webhook_notifier(str(server.make_url("/hook")), session).send(make_digest())

    assert answer == "HTTP 200: ok"  # what the receiver said (monitor notify --test shows it)
    [(headers, body)] = receiver.requests
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == EXPECTED_BODY
    assert headers["webhook-id"] == "dg_42"
    assert headers["webhook-timestamp"].isdigit()
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(SECRET).verify(body, headers) == EXPECTED_BODY


async def test_signature_fails_for_another_secret_or_a_changed_body(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    await webhook_notifier(str(server.make_url("/hook")), session).send(make_digest())
    [(headers, body)] = receiver.requests
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB").verify(body, headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(body.replace(b"dg_42", b"dg_43"), headers)


async def test_webhook_id_is_the_same_on_every_send_of_one_digest(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    notifier = webhook_notifier(str(server.make_url("/hook")), session)
    receiver.status = 503
    with pytest.raises(TransientNotifyError):
        await notifier.send(make_digest())
    receiver.status = 200
    await notifier.send(make_digest())
    await notifier.send(make_digest("dg_43"))
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert ids == ["dg_42", "dg_42", "dg_43"]
    for headers, body in receiver.requests:
        Webhook(SECRET).verify(body, headers)


async def test_without_a_secret_there_is_no_signature(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    await webhook_notifier(str(server.make_url("/hook")), session, secret=None).send(make_digest())
    [(headers, body)] = receiver.requests
    assert "webhook-signature" not in headers
    assert json.loads(body) == EXPECTED_BODY


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (200, None),
        (202, None),
        (204, None),
        (500, TransientNotifyError),
        (502, TransientNotifyError),
        (503, TransientNotifyError),
        (408, TransientNotifyError),
        (429, TransientNotifyError),
        (400, TransientNotifyError),
        (401, TransientNotifyError),
        (404, TransientNotifyError),
        (410, ReceiverGone),
        (422, TransientNotifyError),
        (301, TransientNotifyError),
        (302, TransientNotifyError),
        (303, TransientNotifyError),
        (307, TransientNotifyError),
        (308, TransientNotifyError),
    ],
)
async def test_status_classification(
    server: TestServer,
    receiver: Receiver,
    session: aiohttp.ClientSession,
    status: int,
    error: type[NotifyError] | None,
) -> None:
    receiver.status = status
    notifier = webhook_notifier(str(server.make_url("/hook")), session)
    if error is None:
        await notifier.send(make_digest())
    else:
        with pytest.raises(error, match=f"HTTP {status}"):
            await notifier.send(make_digest())
    assert len(receiver.requests) == 1
    assert receiver.elsewhere_hits == 0  # a redirect is never followed


async def test_timeout_is_transient(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.hang = asyncio.Event()  # released when the server shuts down
    notifier = webhook_notifier(str(server.make_url("/hook")), session, timeout=0.2)
    with pytest.raises(TransientNotifyError, match=r"no answer from 127\.0\.0\.1 within 0\.2 s"):
        await notifier.send(make_digest())
    assert len(receiver.requests) == 1


@pytest.mark.slow
async def test_a_receiver_that_never_answers_is_aborted_and_retried_with_the_same_id(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.hang, receiver.hang_count = asyncio.Event(), 2  # two attempts hang, the third is fine
    notifier = webhook_notifier(str(server.make_url("/hook")), session, timeout=0.3)
    for _ in range(2):
        with pytest.raises(
            TransientNotifyError, match=r"no answer from 127\.0\.0\.1 within 0\.3 s"
        ):
            await notifier.send(make_digest())
    receiver.hang.set()
    await notifier.send(make_digest())
    assert [headers["webhook-id"] for headers, _ in receiver.requests] == ["dg_42"] * 3
    for headers, body in receiver.requests:  # each attempt is signed afresh, and validly
        assert Webhook(SECRET).verify(body, headers) == EXPECTED_BODY


def test_the_default_timeout_is_30_seconds() -> None:
    context = NotifierContext(
        renderer=Renderer(ZoneInfo("UTC")),
        smtp=None,
        session=None,  # type: ignore[arg-type]  # never used
        stdout=io.StringIO(),
    )
    subscriber = SubscriberConfig(name="ops", webhook="https://hooks.example.com/x")
    assert WebhookNotifier(subscriber, context).timeout.total == 30.0


async def test_connection_refused_is_transient(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientNotifyError) as caught:
        await webhook_notifier(f"http://127.0.0.1:{port}/hook", session).send(make_digest())
    # said as a person would, not as aiohttp's exception class
    assert str(caught.value) == f"webhook ops (127.0.0.1): connection refused by 127.0.0.1:{port}"


async def test_a_refusal_says_the_start_of_the_receivers_answer(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    """Chat services explain a refusal in the body (Slack: ``invalid_token``): one line of it,
    cut, is said beside the status; a body echoing a part of the URL is not."""
    receiver.status, receiver.text = 403, "invalid_token\n\x1b[31m" + "x" * 500
    url = str(server.make_url("/hook"))
    with pytest.raises(TransientNotifyError) as caught:
        await webhook_notifier(url, session).send(make_digest())
    message = str(caught.value)
    assert message.startswith("webhook ops (127.0.0.1): HTTP 403: invalid_token ")
    assert "\x1b" not in message and message.endswith("…")
    assert len(message) < len("webhook ops (127.0.0.1): HTTP 403: ") + 121

    receiver.text = "<html><head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>"
    with pytest.raises(TransientNotifyError) as caught:
        await webhook_notifier(url, session).send(make_digest())
    assert str(caught.value) == "webhook ops (127.0.0.1): HTTP 403: 502 Bad Gateway nginx"

    receiver.text = "unknown hook s3cr3t-token"
    with pytest.raises(TransientNotifyError) as caught:
        await webhook_notifier(f"{url}?token=s3cr3t-token", session).send(make_digest())
    assert str(caught.value) == "webhook ops (127.0.0.1): HTTP 403"


async def test_an_answer_whose_body_never_comes_is_still_delivery(
    session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 2xx is delivery: a receiver that sends its status and then nothing more is not made a
    failure (and a duplicate on retry) by reading the start of its body."""
    monkeypatch.setattr(webhook, "ANSWER_WAIT", 0.1)
    stalled = asyncio.Event()

    async def hook(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=202)
        response.content_length = 10
        await response.prepare(request)
        await stalled.wait()  # the body never comes
        return response

    app = web.Application()
    app.router.add_post("/hook", hook)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    try:
        notifier = webhook_notifier(str(test_server.make_url("/hook")), session)
        assert await notifier.send(make_digest()) == "HTTP 202"
    finally:
        stalled.set()
        await test_server.close()


@pytest.mark.parametrize(
    ("allow", "delivered"), [([], False), ([ipaddress.ip_network("127.0.0.0/8")], True)]
)
async def test_the_address_guard_applies_to_webhooks(
    server: TestServer, receiver: Receiver, allow: list[ipaddress.IPv4Network], delivered: bool
) -> None:
    async with aiohttp.ClientSession(connector=GuardedConnector(allow=allow)) as guarded:
        notifier = webhook_notifier(str(server.make_url("/hook")), guarded)
        if delivered:
            await notifier.send(make_digest())
        else:
            with pytest.raises(PermanentNotifyError, match="address refused"):
                await notifier.send(make_digest())
    assert len(receiver.requests) == (1 if delivered else 0)


async def test_error_messages_do_not_carry_the_url_token(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.status = 500
    url = str(server.make_url("/hook").with_query(token="s3cr3t-token"))
    with pytest.raises(TransientNotifyError) as caught:
        await webhook_notifier(url, session).send(make_digest())
    assert "s3cr3t-token" not in str(caught.value)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not*base64!", "whsec_!!!!", "abc"])
def test_unusable_secret_is_refused_by_the_config(secret: str) -> None:
    with pytest.raises(ValueError, match="whsec_"):
        SubscriberConfig.model_validate(
            {"name": "ops", "webhook": "https://hooks.example.com/x", "secret": secret}
        )


def test_the_notifier_refuses_an_unusable_secret_too() -> None:
    subscriber = SubscriberConfig.model_construct(
        name="ops", webhook="https://hooks.example.com/x", secret=SecretStr("whsec_")
    )
    context = NotifierContext(
        renderer=Renderer(ZoneInfo("UTC")),
        smtp=None,
        session=None,  # type: ignore[arg-type]  # never used: construction fails first
        stdout=io.StringIO(),
    )
    with pytest.raises(ConfigError, match="whsec_"):
        WebhookNotifier(subscriber, context)


@pytest.mark.parametrize("bypassed", [False, True])
async def test_a_webhook_goes_through_network_proxy_unless_no_proxy_names_it(
    server: TestServer, receiver: Receiver, bypassed: bool
) -> None:
    # companies reach Slack through their proxy as they reach feeds (network.proxy)
    async with ForwardProxy() as proxy:
        settings = NetworkConfig.model_validate(
            {
                "allow": ["127.0.0.0/8"],
                "proxy": proxy.url,
                "no_proxy": ["127.0.0.1"] if bypassed else [],
            }
        )
        async with HttpClient(settings) as http:
            context = NotifierContext(
                renderer=Renderer(ZoneInfo("UTC")),
                smtp=None,
                session=http.session,
                stdout=io.StringIO(),
                http=http,
            )
            url = str(server.make_url("/hook"))
            subscriber = SubscriberConfig.model_validate(
                {"name": "ops", "webhook": url, "secret": SECRET}
            )
            answer = await build_notifier(subscriber, context).send(make_digest())
    assert answer is not None and answer.startswith("HTTP 200")
    [(headers, body)] = receiver.requests
    Webhook(SECRET).verify(body, headers)  # signed as ever, whatever carried it
    assert [seen.target for seen in proxy.seen] == ([] if bypassed else [url])
