"""SMTP connections kept and reused (monitor.notifiers.smtp_pool) against aiosmtpd on loopback:
how many connections a run of messages takes, and when a kept one is checked, dropped or
replaced."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from monitor.config.sections import SmtpConfig
from monitor.notifiers.smtp_pool import IDLE_CHECK, IDLE_CLOSE, SmtpPool
from tests.support.peers import loopback_smtp


@dataclass
class Server:
    """Counts greetings (one EHLO a connection), NOOPs, QUITs and messages; can hang up after
    accepting a message, or refuse the next DATA."""

    ehlo: int = 0
    noop: int = 0
    quit: int = 0
    messages: list[bytes] = field(default_factory=list)
    hang_up_after: bool = False
    refuse_next: bool = False

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:  # fmt: skip
        self.ehlo += 1
        session.host_name = hostname
        return responses

    async def handle_NOOP(self, server: Any, session: Any, envelope: Any, arg: str) -> str:
        self.noop += 1
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quit += 1
        return "221 Bye"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_next:
            self.refuse_next = False
            return "451 4.3.0 Try again later"
        self.messages.append(envelope.content)
        if self.hang_up_after:  # after the 250 has gone out: an idle connection the server drops
            asyncio.get_running_loop().call_later(0.01, server.transport.close)
        return "250 OK"


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def port(server: Server) -> Iterator[int]:
    yield from loopback_smtp(server)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pool(port: int, clock: Clock | None = None, connections: int = 2) -> SmtpPool:
    config = SmtpConfig.model_validate({
        "host": "127.0.0.1", "port": port, "security": "none",
        "from": "veille@example.com", "timeout": "5s", "connections": connections,
    })  # fmt: skip
    return SmtpPool(config, clock=clock or Clock())


def message(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"message {n}"
    msg.set_content(f"body {n}")
    return msg


async def send(mailer: SmtpPool, n: int) -> None:
    await mailer.send(message(n), "veille@example.com", [f"s{n}@example.com"])


async def test_a_run_of_messages_takes_at_most_the_configured_connections(
    server: Server, port: int
) -> None:
    mailer = pool(port, connections=3)
    await asyncio.gather(*(send(mailer, n) for n in range(30)))
    assert len(server.messages) == 30 and server.ehlo == mailer.opened
    assert 1 < mailer.opened <= 3  # side by side, and never more than allowed
    await asyncio.gather(*(send(mailer, n) for n in range(30, 40)))
    assert server.ehlo == mailer.opened <= 3  # the next run reuses them
    await mailer.close()
    assert server.quit == mailer.opened  # each said goodbye


async def test_a_connection_the_server_dropped_is_replaced(server: Server, port: int) -> None:
    mailer = pool(port, connections=1)
    server.hang_up_after = True
    await send(mailer, 1)
    await asyncio.sleep(0.1)  # the server hangs up while the connection waits in the pool
    server.hang_up_after = False
    await send(mailer, 2)
    assert len(server.messages) == 2 and mailer.opened == server.ehlo == 2
    await mailer.close()


async def test_an_idle_connection_is_checked_then_closed(server: Server, port: int) -> None:
    clock = Clock()
    mailer = pool(port, clock, connections=1)
    await send(mailer, 1)
    clock.now += IDLE_CHECK / 2
    await send(mailer, 2)  # recently used: reused as it is
    assert (mailer.opened, server.noop) == (1, 0)
    clock.now += IDLE_CHECK + 1
    await send(mailer, 3)  # idle a while: asked a NOOP first, then reused
    assert (mailer.opened, server.noop) == (1, 1)
    clock.now += IDLE_CLOSE + 1
    await send(mailer, 4)  # idle too long: closed, a new one opened
    assert (mailer.opened, server.noop, len(server.messages)) == (2, 1, 4)
    await mailer.close()


async def test_a_connection_on_which_a_send_failed_is_not_reused(server: Server, port: int) -> None:
    mailer = pool(port, connections=1)
    await send(mailer, 1)
    server.refuse_next = True
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await send(mailer, 2)
    assert refused.value.code == 451
    await send(mailer, 3)
    assert mailer.opened == server.ehlo == 2  # the failed one was dropped
    assert len(server.messages) == 2  # nothing was sent twice
    await mailer.close()


async def test_after_close_each_message_has_a_connection_of_its_own(
    server: Server, port: int
) -> None:
    mailer = pool(port)
    await send(mailer, 1)
    await mailer.close()
    await send(mailer, 2)
    await send(mailer, 3)
    assert mailer.opened == server.ehlo == server.quit == 3
    assert len(server.messages) == 3


async def test_a_server_that_cannot_be_reached_fails_the_send(server: Server) -> None:
    mailer = pool(1)  # nothing listens on port 1
    with pytest.raises((aiosmtplib.SMTPConnectError, OSError)):
        await send(mailer, 1)
    assert mailer.opened == 0
