"""``monitor notify SUBSCRIBER --test`` as a user runs it: a sample digest through the
subscriber's real channel, against real receivers on loopback (aiosmtpd, an aiohttp webhook
receiver), what they answered on stdout, and no store made."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from standardwebhooks import Webhook

from tests.support.cli import monitor
from tests.support.peers import LoopbackController, SmtpSink, WebhookReceiver, smtp_controller

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PASSWORD = "canary-Pa55word-9d1e"
RULES = """\
rules:
  - name: demarchage
    any: ["démarchage"]
  - name: ia
    any: ["IA", "intelligence artificielle"]
"""


def write_config(tmp_path: Path, subscribers: str, smtp: str = "") -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"storage: sqlite:///{tmp_path}/data/monitor.db\n"
        "network:\n  allow: [127.0.0.0/8]\n  timeout: 5s\n"
        "sources:\n  - {name: leseco, url: 'https://leseco.ma/feed/'}\n"
        f"{RULES}{smtp}subscribers:\n{subscribers}"
    )
    return path


def free_port() -> int:
    with socket.socket() as probe:  # free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def no_store(tmp_path: Path) -> bool:
    return not (tmp_path / "data").exists() and not list(tmp_path.glob("**/*.db"))


def text_part(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage)
    return str(part.get_content())


class Logins:
    """An aiosmtpd authenticator that takes only PASSWORD."""

    def __call__(self, *args: Any) -> AuthResult:
        data = args[-1]
        assert isinstance(data, LoginPassword)
        return AuthResult(success=data.password == PASSWORD.encode(), handled=False)


class Accept:
    async def handle_DATA(self, *args: Any) -> str:
        return "250 2.0.0 queued"


@pytest.fixture
def auth_smtp() -> Iterator[LoopbackController]:
    # AUTH over plain TCP, only so the test needs no certificate
    yield from smtp_controller(Accept(), authenticator=Logins(), auth_require_tls=False)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    yield server
    await server.close()


def smtp_section(port: int, password: bool = False) -> str:
    login = "  username: veille\n  password: ${SMTP_PASSWORD}\n" if password else ""
    return (
        f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  security: none\n{login}"
        "  from: 'Veille <veille@example.com>'\n"
    )


@pytest.mark.slow
def test_email_arrives_marked_as_a_test_in_the_subscribers_language(
    tmp_path: Path, sink: SmtpSink
) -> None:
    port = int(sink.controller.port)
    path = write_config(
        tmp_path,
        "  - {name: analyst, email: analyst@example.ma, language: en}\n"
        "  - {name: analyste, email: analyste@example.ma}\n",
        smtp_section(port),
    )
    result = monitor("notify", "analyst", "--test", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"test digest for analyst: 2 sample articles, by email to analyst@example.ma via "
        f"127.0.0.1:{port}",
        "accepted: 250 OK",  # what the SMTP server answered
    ]
    [message] = sink.messages
    assert message["To"] == "analyst@example.ma"
    assert message["Subject"] == "[TEST] [monitor] 2 new articles — demarchage, ia"
    text = text_part(message)
    assert text.startswith("Test send (monitor notify --test): the articles below are samples")
    assert "Sample: démarchage, what changes for businesses" in text
    html = message.get_body(("html",))
    assert isinstance(html, EmailMessage)
    assert "<mark" in str(html.get_content())  # the sample's terms highlighted, as in a digest

    french = monitor("notify", "analyste", "--test", "-c", str(path), cwd=tmp_path)
    assert french.returncode == 0, french.stderr
    assert sink.messages[1]["Subject"] == "[TEST] [veille] 2 nouveaux articles — demarchage, ia"
    assert text_part(sink.messages[1]).startswith("Envoi de test (monitor notify --test) : ")
    assert no_store(tmp_path)  # nothing recorded, and no store made for it


@pytest.mark.slow
def test_a_wrong_smtp_password_is_what_the_server_answered(
    tmp_path: Path, auth_smtp: LoopbackController
) -> None:
    path = write_config(
        tmp_path,
        "  - {name: analyste, email: analyste@example.ma}\n",
        smtp_section(auth_smtp.port, password=True),
    )
    wrong = monitor(
        "notify", "analyste", "--test", "-c", str(path), cwd=tmp_path,
        env={"SMTP_PASSWORD": "not-" + PASSWORD},
    )  # fmt: skip
    assert wrong.returncode == 1
    assert wrong.stderr.startswith(
        f"monitor: test digest not delivered: email analyste via 127.0.0.1:{auth_smtp.port}: "
        "SMTP server refused login (535 "
    )
    assert PASSWORD not in wrong.stdout + wrong.stderr
    right = monitor(
        "notify", "analyste", "--test", "-c", str(path), cwd=tmp_path,
        env={"SMTP_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert right.returncode == 0, right.stderr
    assert right.stdout.endswith("accepted: 250 2.0.0 queued\n")
    assert no_store(tmp_path)


@pytest.mark.slow
async def test_webhook_gets_a_signed_sample_and_its_answer_is_shown(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    receiver.body = b"thanks, got it"
    path = write_config(
        tmp_path,
        f"  - name: ops\n    webhook: {receiver.url}/hook\n    secret: {SECRET}\n"
        f"  - name: chat\n    webhook: {receiver.url}/slack\n    format: slack\n"
        "    rules: [ia]\n    language: en\n",
    )
    result = await asyncio.to_thread(
        monitor, "notify", "ops", "--test", "-c", str(path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "test digest for ops: 2 sample articles, by webhook 127.0.0.1 (generic, signed)",
        "accepted: HTTP 200: thanks, got it",
    ]
    [request] = receiver.requests
    payload = Webhook(SECRET).verify(request.body, request.headers)  # Standard Webhooks
    assert payload["type"] == "digest" and payload["subscriber"] == "ops"
    assert payload["id"].startswith("dg_test_") and request.headers["webhook-id"] == payload["id"]
    assert [item["rules"] for item in payload["items"]] == [["demarchage"], ["ia"]]
    assert payload["items"][0]["summary"].startswith("Article d'exemple de l'envoi de test")

    slack = await asyncio.to_thread(
        monitor, "notify", "chat", "--test", "-c", str(path), cwd=tmp_path
    )
    assert slack.returncode == 0, slack.stderr
    assert "by webhook 127.0.0.1 (slack)" in slack.stdout
    message = json.loads(receiver.requests[1].body)  # in the subscriber's format
    assert message["blocks"][0]["text"]["text"] == "[TEST] [monitor] 1 new article — ia"
    assert "webhook-signature" not in receiver.requests[1].headers
    assert no_store(tmp_path)


@pytest.mark.slow
async def test_a_refusal_or_nobody_listening_is_said_in_words(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    port = free_port()
    receiver.statuses, receiver.body = [403], b"invalid_token"
    path = write_config(
        tmp_path,
        f"  - {{name: ops, webhook: 'http://127.0.0.1:{port}/hook'}}\n"
        f"  - {{name: chat, webhook: '{receiver.url}/services/T0/B0/s3cr3tt0ken', format: slack}}\n"
        "  - {name: analyste, email: analyste@example.ma}\n",
        smtp_section(port),
    )
    cases = {
        "ops": f"webhook ops (127.0.0.1): connection refused by 127.0.0.1:{port}",
        "chat": "webhook chat (127.0.0.1): HTTP 403: invalid_token",
        "analyste": f"email analyste via 127.0.0.1:{port}: connection refused by 127.0.0.1:{port}",
    }
    for name, said in cases.items():
        result = await asyncio.to_thread(
            monitor, "notify", name, "--test", "-c", str(path), cwd=tmp_path
        )
        assert result.returncode == 1, result.stderr
        assert result.stderr == f"monitor: test digest not delivered: {said}\n"
        assert "Error" not in result.stderr and "s3cr3tt0ken" not in result.stdout
    assert no_store(tmp_path)


@pytest.mark.slow
def test_console_prints_the_sample_digest(tmp_path: Path) -> None:
    path = write_config(tmp_path, "  - {name: terminal, console: true, rules: [demarchage]}\n")
    result = monitor("notify", "terminal", "--test", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "test digest for terminal: 1 sample article, by console"
    assert lines[1].startswith("### digest dg_test_")
    assert lines[2].startswith("Envoi de test (monitor notify --test) : ")
    assert "[TEST] [veille] 1 nouvel article — demarchage" in lines
    assert "1. Exemple : démarchage, ce qui change pour les entreprises" in lines
    assert lines[-1] == "accepted: printed on standard output"
    assert no_store(tmp_path)


@pytest.mark.slow
def test_an_unknown_subscriber_or_a_missing_test_flag_is_a_usage_error(tmp_path: Path) -> None:
    path = write_config(tmp_path, "  - {name: terminal, console: true}\n")
    unknown = monitor("notify", "termnial", "--test", "-c", str(path), cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr == "monitor: unknown subscriber 'termnial' (did you mean terminal?)\n"
    plain = monitor("notify", "terminal", "-c", str(path), cwd=tmp_path)
    assert plain.returncode == 2
    assert plain.stderr.splitlines()[-1] == (
        "monitor: error: notify: only --test is supported (monitor notify SUBSCRIBER --test)"
    )
    assert unknown.stdout == plain.stdout == ""
    assert no_store(tmp_path)


@pytest.mark.slow
async def test_apprise_says_whether_its_service_accepted(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    port = free_port()
    host = receiver.url.removeprefix("http://")
    path = write_config(
        tmp_path,
        f"  - {{name: svc, apprise: 'json://{host}/apprise', language: en}}\n"
        f"  - {{name: gone, apprise: 'json://127.0.0.1:{port}/apprise'}}\n",
    )
    result = await asyncio.to_thread(
        monitor, "notify", "svc", "--test", "-c", str(path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "test digest for svc: 2 sample articles, by apprise (json)"
    assert lines[1].startswith("accepted")
    [request] = receiver.requests
    sent = json.loads(request.body)
    assert sent["title"] == "[TEST] [monitor] 2 new articles — demarchage, ia"
    assert sent["message"].startswith("Test send (monitor notify --test)")

    refused = await asyncio.to_thread(
        monitor, "notify", "gone", "--test", "-c", str(path), cwd=tmp_path
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("monitor: test digest not delivered: apprise gone (json): ")
    assert str(port) not in refused.stdout  # the URL is never shown, only its scheme
    assert no_store(tmp_path)
