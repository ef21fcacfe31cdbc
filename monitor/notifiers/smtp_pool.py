"""SMTP connections kept open and reused for the next messages (issue 7: hundreds of emails a
second to one server, where a connection per message spends most of its time greeting, and
saying EHLO, STARTTLS and AUTH again).

- At most ``smtp.connections`` are open at once; a message waits for one to be free.
- A connection is reused only while the server keeps it: one the server has closed is dropped,
  one unused for IDLE_CHECK seconds is asked a NOOP first, one unused for IDLE_CLOSE seconds is
  closed (servers drop idle clients after one to five minutes).
- A connection on which anything failed is closed, never reused: after a timeout or a lost
  reply its state is unknown. The failure itself is the caller's (EmailNotifier classifies it);
  nothing is sent again here, so a message is never sent twice by the pool.
- A pool that does not keep connections (``keep=False``) opens one per message and closes it,
  as does a pool after :meth:`close` (a send still running at a reload finishes this way)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from email.message import Message

import aiosmtplib

from monitor.config.sections import SmtpConfig

IDLE_CHECK = 10.0  # seconds unused after which a connection is checked (NOOP) before a message
IDLE_CLOSE = 60.0  # seconds unused after which it is closed instead
QUIT_WAIT = 2.0  # seconds a QUIT may take at close


class SmtpPool:
    def __init__(
        self,
        config: SmtpConfig,
        keep: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.keep = keep
        self.clock = clock
        self._slots = asyncio.Semaphore(config.connections)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (connection, last used)
        self.opened = 0  # connections made so far, for tests and benchmarks

    async def send(self, message: Message | bytes, sender: str, recipients: Sequence[str]) -> str:
        """Send ``message`` to ``recipients`` (the envelope); aiosmtplib's errors pass through.
        Returns the text of the server's 250 reply to the message (e.g. ``OK queued as 4F2``).

        A message already flattened (bytes, ASCII, as ``send_message`` would flatten it) is
        sent as ``send_message`` would send it, with ``BODY=8BITMIME`` when the server has it."""
        async with self._slots:
            client = await self._ready()
            try:
                if isinstance(message, bytes):
                    reply = await _send_bytes(client, message, sender, list(recipients))
                else:
                    _, reply = await client.send_message(
                        message, sender=sender, recipients=list(recipients)
                    )
            except BaseException:
                client.close()
                raise
            if self.keep:
                self._idle.append((client, self.clock()))
            else:
                await _quit(client)
            return reply

    async def close(self) -> None:
        """Close the idle connections; later sends each use a connection of their own."""
        self.keep = False
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_quit(client) for client, _ in idle))

    async def _ready(self) -> aiosmtplib.SMTP:
        """A connection the server still holds, the most recently used first, or a new one."""
        now = self.clock()
        kept = []
        for client, used in self._idle:
            if client.is_connected and now - used < IDLE_CLOSE:
                kept.append((client, used))
            else:
                client.close()
        self._idle = kept
        while self._idle:
            client, used = self._idle.pop()
            if now - used < IDLE_CHECK:
                return client
            try:
                await client.noop()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()
                continue
            return client
        return await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        smtp = self.config
        password = smtp.password.get_secret_value() if smtp.password is not None else None
        client = aiosmtplib.SMTP(
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=password if smtp.username is not None else None,
            timeout=smtp.timeout.total_seconds(),
            use_tls=smtp.security == "ssl",
            start_tls=smtp.security == "starttls",  # required, not opportunistic
        )
        try:
            await client.connect()  # greets, says EHLO, STARTTLS and AUTH as configured
        except BaseException:
            client.close()
            raise
        self.opened += 1
        return client


async def _send_bytes(
    client: aiosmtplib.SMTP, message: bytes, sender: str, recipients: list[str]
) -> str:
    """What ``send_message`` does after flattening, for an ASCII sender and recipients."""
    await client._ehlo_or_helo_if_needed()  # as send_message: the extensions are known after
    options = ["BODY=8BITMIME"] if client.supports_extension("8BITMIME") else []
    _, reply = await client.sendmail(sender, recipients, message, mail_options=options)
    return reply


async def _quit(client: aiosmtplib.SMTP) -> None:
    """Say goodbye politely when the server is still there; close in any case."""
    with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
        if client.is_connected:
            await client.quit(timeout=QUIT_WAIT)
    client.close()
