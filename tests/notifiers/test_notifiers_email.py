"""The email notifier against a real SMTP server (aiosmtpd) on loopback (DESIGN §3.6, D1-D3, K1)."""

from __future__ import annotations

import asyncio
import base64
import email
import email.charset
import email.policy
import io
import random
import re
import socket
import traceback
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from aiosmtplib.email import flatten_message

from monitor.config.sections import SmtpConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import ConfigError, NotifyError, PermanentNotifyError, TransientNotifyError
from monitor.core.models import Digest, DigestItem
from monitor.digest.render import Renderer
from monitor.notifiers import build_notifier
from monitor.notifiers.base import NotifierContext
from monitor.notifiers.email import EmailNotifier, header_text
from monitor.notifiers.smtp_pool import SmtpPool
from tests.support.peers import LoopbackController, TcpRelay, smtp_controller

PASSWORD = "canary-Pa55word-7f3c"
FROM = "Veille <veille@example.com>"
TO = "analyste@example.ma"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Recorder:
    """An SMTP handler that keeps what it accepted and can answer with a chosen reply."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    drop_after_data: bool = False  # hang up after taking the message, before the 250
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        if self.drop_after_data:
            server.transport.close()
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        # handled=False: let the server send the 535 itself.
        return AuthResult(success=data.password == PASSWORD.encode(), handled=False)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[LoopbackController]:
    yield from smtp_controller(recorder)


@pytest.fixture
def auth_server(recorder: Recorder) -> Iterator[LoopbackController]:
    # AUTH over plain TCP, only so the test can watch it; never how a real server should be.
    yield from smtp_controller(
        recorder, authenticator=recorder.authenticate, auth_require_tls=False
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def smtp_config(port: int, **changes: Any) -> SmtpConfig:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": FROM,
        "timeout": "10s",
    }
    values.update(changes)
    return SmtpConfig.model_validate(values)


def notifier(smtp: SmtpConfig, session: aiohttp.ClientSession) -> EmailNotifier:
    context = NotifierContext(
        renderer=Renderer(ZoneInfo("Africa/Casablanca")),
        smtp=smtp,
        session=session,
        stdout=io.StringIO(),
    )
    built = build_notifier(SubscriberConfig(name="analyste", email=TO), context)
    assert isinstance(built, EmailNotifier)
    return built


def make_digest(*titles: str, digest_id: str = "dg_0001") -> Digest:
    items = tuple(
        DigestItem(
            id=f"it_{n}",
            title=title,
            link=f"https://leseco.ma/article/{n}",
            source="leseco",
            published=datetime(2026, 11, 26, 7, n, tzinfo=UTC),
            summary=f"Le démarchage téléphonique, épisode {n}.",
            rules=("demarchage",),
            terms={"demarchage": ("démarchage",)},
        )
        for n, title in enumerate(titles)
    )
    return Digest(digest_id, "analyste", datetime(2026, 11, 26, 8, 0, tzinfo=UTC), items)


def parsed(received: Received) -> EmailMessage:
    message = email.message_from_bytes(received.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def part_text(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    content = part.get_content()
    assert isinstance(content, str)
    return content


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: list[tuple[str, str, str | None]] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value) for name, value in attrs)


async def test_sends_multipart_alternative_with_both_parts_listing_the_same_items(
    server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    titles = ("Le démarchage interdit", "Les centres d’appel s’adaptent", "Troisième article")
    answer = await notifier(smtp_config(server.port), session).send(make_digest(*titles))

    assert answer == "250 Message accepted for delivery"  # the server's reply to the message
    [received] = recorder.received
    assert received.mail_from == "veille@example.com"
    assert received.rcpt_tos == [TO]
    message = parsed(received)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    text, html = part_text(message, "plain"), part_text(message, "html")
    anchors = Anchors()
    anchors.feed(html)
    visible = "".join(anchors.text)
    for n, title in enumerate(titles):
        link = f"https://leseco.ma/article/{n}"
        assert title in text and link in text
        assert title in visible and link in visible and f'href="{link}"' in html
    assert "<mark" in html and "démarchage</mark>" in html


async def test_headers(
    server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    await notifier(smtp_config(server.port), session).send(make_digest("Un", "Deux"))
    message = parsed(recorder.received[0])
    assert message["From"] == FROM
    assert message["To"] == TO
    assert message["Subject"] == "[veille] 2 nouveaux articles — demarchage"
    assert message["Message-ID"] == "<dg_0001@example.com>"
    assert message["X-Monitor-Digest"] == "dg_0001"  # the footer shows whom and when instead
    assert message["List-Unsubscribe"] == (
        "<mailto:veille@example.com?subject=unsubscribe%20analyste>"
    )
    date = message["Date"].datetime
    assert isinstance(date, datetime) and date.tzinfo is not None


def legacy_message(built: EmailNotifier, digest: Digest, now: datetime) -> Message:
    """The message as the email package's legacy API builds it (what EmailNotifier.build
    writes directly)."""
    renderer = built.renderer
    msg = MIMEMultipart("alternative")
    msg["From"], msg["To"] = built.from_header, built.to
    msg["Subject"] = Header(header_text(renderer.subject(digest)), "utf-8")  # type: ignore[assignment]
    for name, value in built._headers(digest, now):
        msg[name] = value
    msg.attach(MIMEText(renderer.text(digest), "plain", "utf-8"))
    msg.attach(MIMEText(renderer.html(digest), "html", "utf-8"))
    return msg


@pytest.mark.parametrize("sender", [FROM, "Équipe Veille — Rabat <veille@example.com>"])
@pytest.mark.parametrize("unsubscribe", [False, True])
@pytest.mark.parametrize(
    "utf8",
    [
        (email.charset.SHORTEST, email.charset.BASE64, "utf-8"),  # the email package's own
        (email.charset.QP, email.charset.QP, "utf-8"),  # what apprise's email plugin registers
    ],
)
def test_message_bytes_are_those_aiosmtplib_makes_of_the_mime_message(
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
    sender: str,
    unsubscribe: bool,
    utf8: tuple[int, int, str],
) -> None:
    monkeypatch.setitem(email.charset.CHARSETS, "utf-8", utf8)
    context = NotifierContext(
        Renderer(ZoneInfo("Africa/Casablanca"), language="en"),
        smtp_config(25, **{"from": sender}),
        session,
        io.StringIO(),
        unsubscribe_url=(lambda name, to, at: f"https://veille.example/u/{name}/{at:%s}" * 2)
        if unsubscribe
        else None,
    )
    built = build_notifier(SubscriberConfig(name="analyste", email=TO), context)
    assert isinstance(built, EmailNotifier)
    now = datetime(2026, 11, 26, 8, 30, 5, tzinfo=UTC)
    long_rule = "une règle au nom très long " * 5
    digests = [
        make_digest("Un"),
        make_digest(
            *(f"Le démarchage <b>interdit</b> & « encadré », épisode {n}" for n in range(40))
        ),
        make_digest("=?UTF-8?Q?Evil=0D=0ABcc:_x@y?= \r\nBcc: x@y", "From the start"),
        replace(make_digest("Deux"), items=()),
    ]
    digests.append(
        replace(
            digests[0], items=tuple(replace(i, rules=(long_rule, "ia")) for i in digests[1].items)
        )
    )
    for n, digest in enumerate(digests):
        random.seed(n)  # the MIME boundary is drawn at random, by both
        sent = built.message(digest, now)
        random.seed(n)
        expected = legacy_message(built, digest, now)
        assert isinstance(sent, bytes)
        assert sent == flatten_message(expected)  # what send_message sends: BODY=8BITMIME
        random.seed(n)  # (flattened, a copy of the message got the boundary, not the message)
        assert sent == flatten_message(expected, cte_type="7bit")  # and without 8BITMIME
        assert sent.isascii()


async def test_message_id_is_the_same_on_every_send_of_one_digest(
    server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    email_notifier = notifier(smtp_config(server.port), session)
    await email_notifier.send(make_digest("Un"))
    await email_notifier.send(make_digest("Un"))
    await email_notifier.send(make_digest("Un", digest_id="dg_0002"))
    ids = [parsed(received)["Message-ID"] for received in recorder.received]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize(
    "title",
    [
        "Evil\r\nBcc: x@y",
        "Evil\nBcc: x@y",
        "=?UTF-8?Q?=0A?=Bcc: x@y",
        "=?UTF-8?Q?Evil=0D=0ABcc:_x@y?= suite",
    ],
)
async def test_feed_text_cannot_add_a_header(
    server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession, title: str
) -> None:
    digest = make_digest(title)
    # The renderer puts counts and rules in the subject; here a title stands in for a rule name
    # too, so the hostile text reaches the Subject header itself.
    digest = replace(
        digest, items=tuple(replace(i, rules=(title,), terms={}) for i in digest.items)
    )
    await notifier(smtp_config(server.port), session).send(digest)

    [received] = recorder.received
    assert received.rcpt_tos == [TO]
    header_block = received.content.split(b"\r\n\r\n", 1)[0]
    names = [
        line.split(b":", 1)[0].lower()
        for line in header_block.split(b"\r\n")
        if line and not line[:1].isspace()
    ]
    assert names.count(b"subject") == 1
    assert b"bcc" not in names
    message = parsed(received)
    assert message["Bcc"] is None
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])


async def test_html_part_carries_nothing_executable(
    server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    digest = make_digest('<script>alert(1)</script><img src=x onerror="alert(2)">')
    hostile = replace(
        digest.items[0], link="javascript:alert(3)", summary='"><svg onload=alert(4)>'
    )
    digest = replace(digest, items=(hostile,))
    await notifier(smtp_config(server.port), session).send(digest)
    html = part_text(parsed(recorder.received[0]), "html")
    anchors = Anchors()
    anchors.feed(html)
    assert "<script" not in html.lower()
    assert not {"script", "img", "svg"} & set(anchors.tags)
    assert not [name for _, name, _ in anchors.attrs if name.startswith("on")]
    hrefs = [value or "" for _, name, value in anchors.attrs if name == "href"]
    assert all(re.match(r"https?://", href) for href in hrefs)


@pytest.mark.parametrize(
    ("where", "reply", "error"),
    [
        ("data_reply", "451 4.3.0 Try again later", TransientNotifyError),
        ("data_reply", "552 5.3.4 Message too big", PermanentNotifyError),
        ("rcpt_reply", "450 4.2.1 Mailbox busy", TransientNotifyError),
        ("rcpt_reply", "550 5.1.1 No such user", PermanentNotifyError),
    ],
)
async def test_smtp_replies_are_classified(
    recorder: Recorder,
    server: LoopbackController,
    session: aiohttp.ClientSession,
    where: str,
    reply: str,
    error: type[NotifyError],
) -> None:
    setattr(recorder, where, reply)
    with pytest.raises(error) as caught:
        await notifier(smtp_config(server.port), session).send(make_digest("Un"))
    assert reply.split()[0] in str(caught.value)
    assert recorder.received == []


async def test_transient_then_accepted(
    recorder: Recorder, server: LoopbackController, session: aiohttp.ClientSession
) -> None:
    email_notifier = notifier(smtp_config(server.port), session)
    recorder.data_reply = "451 4.3.0 Try again later"
    for _ in range(2):
        with pytest.raises(TransientNotifyError):
            await email_notifier.send(make_digest("Un"))
    recorder.data_reply = None
    await email_notifier.send(make_digest("Un"))
    assert len(recorder.received) == 1


async def test_hang_up_before_the_250_is_transient_and_the_resend_keeps_the_message_id(
    recorder: Recorder, server: LoopbackController, session: aiohttp.ClientSession
) -> None:
    email_notifier = notifier(smtp_config(server.port), session)
    recorder.drop_after_data = True
    with pytest.raises(TransientNotifyError):
        await email_notifier.send(make_digest("Un"))
    recorder.drop_after_data = False
    await email_notifier.send(make_digest("Un"))
    ids = {parsed(received)["Message-ID"] for received in recorder.received}
    assert len(recorder.received) == 2 and ids == {"<dg_0001@example.com>"}


async def test_connection_refused_is_transient(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientNotifyError) as caught:
        await notifier(smtp_config(port), session).send(make_digest("Un"))
    assert str(caught.value) == (
        f"email analyste via 127.0.0.1:{port}: connection refused by 127.0.0.1:{port}"
    )


@pytest.mark.slow
async def test_a_server_that_never_greets_is_no_answer_within_the_timeout(
    session: aiohttp.ClientSession,
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # holds the connection open and says nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(TransientNotifyError) as caught:
            await notifier(smtp_config(port, timeout="1s"), session).send(make_digest("Un"))
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert (
        str(caught.value)
        == f"email analyste via 127.0.0.1:{port}: no answer from 127.0.0.1 within 1 s"
    )


async def test_auth_without_tls_when_configured(
    auth_server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    smtp = smtp_config(auth_server.port, username="veille", password=PASSWORD)
    await notifier(smtp, session).send(make_digest("Un"))
    assert recorder.logins == [(b"veille", PASSWORD.encode())]
    assert len(recorder.received) == 1


async def test_a_kept_connection_logs_in_once(
    auth_server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    smtp = smtp_config(auth_server.port, username="veille", password=PASSWORD, connections=1)
    mailer = SmtpPool(smtp)
    context = NotifierContext(
        Renderer(ZoneInfo("UTC")), smtp, session, io.StringIO(), mailer=mailer
    )
    built = build_notifier(SubscriberConfig(name="analyste", email=TO), context)
    for n in range(3):
        await built.send(make_digest("Un", digest_id=f"dg_{n}"))
    await mailer.close()
    assert recorder.logins == [(b"veille", PASSWORD.encode())]  # one connection, one AUTH
    assert len(recorder.received) == 3 and mailer.opened == 1


async def test_no_auth_without_username(
    auth_server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    await notifier(smtp_config(auth_server.port), session).send(make_digest("Un"))
    assert recorder.logins == []
    assert len(recorder.received) == 1


async def test_refused_login_is_permanent_and_hides_the_password(
    auth_server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    wrong = "wrong-" + PASSWORD
    smtp = smtp_config(auth_server.port, username="veille", password=wrong)
    with pytest.raises(PermanentNotifyError) as caught:
        await notifier(smtp, session).send(make_digest("Un"))
    assert re.fullmatch(
        rf"email analyste via 127\.0\.0\.1:{auth_server.port}: SMTP server refused login "
        r"\(535 [^)]+\)",
        str(caught.value),
    ), caught.value
    shown = "".join(traceback.format_exception(caught.value))
    for form in (wrong, base64.b64encode(wrong.encode()).decode()):
        assert form not in shown
    assert recorder.received == []


@pytest.mark.parametrize(("security", "auth_seen"), [("starttls", False), ("none", True)])
async def test_no_auth_line_crosses_the_wire_in_clear_when_starttls_is_required(
    auth_server: LoopbackController,
    recorder: Recorder,
    session: aiohttp.ClientSession,
    security: str,
    auth_seen: bool,
) -> None:
    # The server offers AUTH but not STARTTLS; the relay keeps all the server receives.
    relay = TcpRelay(auth_server.port)
    port = await relay.start()
    try:
        smtp = smtp_config(port, security=security, username="veille", password=PASSWORD)
        if auth_seen:  # the control: with security none the relay does see AUTH go by
            await notifier(smtp, session).send(make_digest("Un"))
        else:
            with pytest.raises(NotifyError, match="STARTTLS") as caught:
                await notifier(smtp, session).send(make_digest("Un"))
            shown = "".join(traceback.format_exception(caught.value))
            assert PASSWORD not in shown
    finally:
        await relay.close()
    commands = [line.split(b" ")[0].upper() for line in bytes(relay.transcript).split(b"\r\n")]
    assert commands[0] == b"EHLO"
    assert (b"AUTH" in commands) is auth_seen
    plain = base64.b64encode(b"\0veille\0" + PASSWORD.encode())
    login = base64.b64encode(PASSWORD.encode())
    leaked = [f for f in (PASSWORD.encode(), plain, login) if f in relay.transcript]
    assert bool(leaked) is auth_seen
    assert (len(recorder.received) == 1) is auth_seen


async def test_starttls_required_but_not_offered_fails_before_auth(
    auth_server: LoopbackController, recorder: Recorder, session: aiohttp.ClientSession
) -> None:
    smtp = smtp_config(auth_server.port, security="starttls", username="veille", password=PASSWORD)
    with pytest.raises(NotifyError) as caught:
        await notifier(smtp, session).send(make_digest("Un"))
    assert "STARTTLS" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert recorder.logins == [] and recorder.received == []


def test_email_subscriber_without_smtp_section_is_a_config_error() -> None:
    context = NotifierContext(
        renderer=Renderer(ZoneInfo("UTC")),
        smtp=None,
        session=None,  # type: ignore[arg-type]  # never used: construction fails first
        stdout=io.StringIO(),
    )
    with pytest.raises(ConfigError, match="smtp"):
        build_notifier(SubscriberConfig(name="analyste", email=TO), context)


@pytest.mark.parametrize(
    ("sender", "to"),
    [
        ("Équipe Veille — Rabat <veille@example.com>", TO),  # a display name beyond ASCII
        (FROM, "józef@exämple.ma"),  # an address beyond ASCII: sent with SMTPUTF8
        ("Équipe <veille@exämple.ma>", "józef@exämple.ma"),
    ],
)
async def test_names_and_addresses_beyond_ascii(
    recorder: Recorder, session: aiohttp.ClientSession, sender: str, to: str
) -> None:
    for server in smtp_controller(recorder, enable_SMTPUTF8=True):
        smtp = smtp_config(server.port, **{"from": sender})
        context = NotifierContext(Renderer(ZoneInfo("UTC")), smtp, session, io.StringIO())
        built = build_notifier(SubscriberConfig(name="analyste", email=to), context)
        await built.send(make_digest("Le démarchage interdit"))
    [received] = recorder.received
    assert received.rcpt_tos == [to]
    message = parsed(received)
    assert (message["From"], message["To"]) == (sender, to)
    assert message["Subject"] == "[veille] 1 nouvel article — demarchage"
    assert "Le démarchage interdit" in part_text(message, "plain")
    assert "démarchage</mark>" in part_text(message, "html")


async def test_subscribers_sharing_a_pool_share_its_connections(
    recorder: Recorder, server: LoopbackController, session: aiohttp.ClientSession
) -> None:
    smtp = smtp_config(server.port, connections=2)
    mailer = SmtpPool(smtp)
    context = NotifierContext(
        Renderer(ZoneInfo("UTC")), smtp, session, io.StringIO(), mailer=mailer
    )
    notifiers = [
        build_notifier(SubscriberConfig(name=f"s{n}", email=f"s{n}@example.ma"), context)
        for n in range(12)
    ]
    await asyncio.gather(*(n.send(make_digest("Un", digest_id=f"dg_{i}"))
                           for i, n in enumerate(notifiers)))  # fmt: skip
    await mailer.close()
    assert sorted(r.rcpt_tos[0] for r in recorder.received) == sorted(
        f"s{n}@example.ma" for n in range(12)
    )
    assert 1 <= mailer.opened <= 2
