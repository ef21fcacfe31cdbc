"""The console notifier and the notifier registry."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from monitor.config.sections import SmtpConfig
from monitor.config.subscribers import CHANNELS, SubscriberConfig
from monitor.core.models import Digest, DigestItem
from monitor.digest.render import Renderer
from monitor.notifiers import NOTIFIER_KINDS, build_notifier
from monitor.notifiers.base import NotifierContext
from monitor.notifiers.console import ConsoleNotifier
from monitor.notifiers.email import EmailNotifier
from monitor.notifiers.webhook import WebhookNotifier


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def context(session: aiohttp.ClientSession, stdout: io.StringIO) -> NotifierContext:
    smtp = SmtpConfig.model_validate({"host": "127.0.0.1", "from": "veille@example.com"})
    return NotifierContext(Renderer(ZoneInfo("Africa/Casablanca")), smtp, session, stdout)


def make_digest(*titles: str) -> Digest:
    items = tuple(
        DigestItem(
            id=f"it_{n}",
            title=title,
            link=f"https://leseco.ma/article/{n}",
            source="leseco",
            published=datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
            summary="L’IA dans les centres d’appel.",
            rules=("ia",),
            terms={"ia": ("IA",)},
        )
        for n, title in enumerate(titles)
    )
    return Digest("dg_7", "terminal", datetime(2026, 11, 26, 8, 0, tzinfo=UTC), items)


async def test_prints_every_item_under_a_header(session: aiohttp.ClientSession) -> None:
    out = io.StringIO()
    subscriber = SubscriberConfig(name="terminal", console=True)
    notifier = build_notifier(subscriber, context(session, out))
    await notifier.send(make_digest("Premier titre", "Second titre"))
    printed = out.getvalue()
    assert printed.splitlines()[0] == "### digest dg_7 pour terminal"
    for n, title in enumerate(["Premier titre", "Second titre"]):
        assert title in printed
        assert f"https://leseco.ma/article/{n}" in printed
    assert "26/11/2026 08:00" in printed
    assert printed.endswith("\n")


async def test_terminal_escapes_from_feeds_are_not_printed(
    session: aiohttp.ClientSession,
) -> None:
    out = io.StringIO()
    notifier = ConsoleNotifier(
        SubscriberConfig(name="terminal", console=True), context(session, out)
    )
    await notifier.send(make_digest("Titre\x1b]0;pwned\x07 \x1b[2J fin"))
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "Titre ]0;pwned [2J fin" in out.getvalue()


@pytest.mark.parametrize(
    ("channel", "kind"),
    [
        ({"email": "analyste@example.ma"}, EmailNotifier),
        ({"webhook": "https://hooks.example.com/monitor"}, WebhookNotifier),
        ({"console": True}, ConsoleNotifier),
    ],
)
async def test_registry_builds_the_subscriber_channel(
    session: aiohttp.ClientSession, channel: dict[str, Any], kind: type
) -> None:
    subscriber = SubscriberConfig.model_validate({"name": "x", **channel})
    assert subscriber.channel in NOTIFIER_KINDS
    assert isinstance(build_notifier(subscriber, context(session, io.StringIO())), kind)


def test_every_channel_has_a_notifier() -> None:
    assert set(NOTIFIER_KINDS) == set(CHANNELS)
