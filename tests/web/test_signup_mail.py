"""What becomes of a sign-up's email (monitor.web.signup_mail.send_once): it runs as a task
nobody awaits, so it says what happened and never raises."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import Message

from monitor.config.sections import SmtpConfig
from monitor.web.signup_mail import CONFIRM, Sent, message, send_once

SMTP = SmtpConfig.model_validate({"host": "127.0.0.1", "port": 1, "from": "v@example.ma"})


class Unwritable:
    """A mail library that will not write a message (a ValueError from deep in the email
    package: no real SMTP peer makes it happen on demand, hence this stand-in)."""

    async def send(self, message: Message | bytes, sender: str, recipients: Sequence[str]) -> str:
        raise ValueError("invalid header")


async def test_a_message_the_library_will_not_write_is_a_failure_not_a_crash() -> None:
    mail = message(
        SMTP,
        "a@example.ma",
        CONFIRM["en"],
        "https://x.ma/c",
        datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
    )
    assert await send_once(SMTP, Unwritable(), mail) is Sent.FAILED
