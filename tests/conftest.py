"""Fixtures shared by the tests: a feed server and a webhook receiver on loopback, and a fresh
store on each backend (SQLite, PostgreSQL).

A test may hold either one on a gate; it is released before the server closes."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.core.redact import forget_secrets
from monitor.store import open_engine
from tests.support.databases import BACKENDS, fresh_storage
from tests.support.peers import FeedServer, SmtpSink, WebhookReceiver


@pytest.fixture(autouse=True)
def no_remembered_secrets() -> Iterator[None]:
    """The ${VAR} values a test's configurations used are hidden in that test's output only:
    one test's host (``h.example``) is not another's secret."""
    yield
    forget_secrets()


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    for gate in server.gates.values():
        gate.set()
    await server.close()


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    yield server
    if server.gate is not None:
        server.gate.set()
    await server.close()


@pytest.fixture
def peers(feeds: FeedServer, receiver: WebhookReceiver) -> tuple[FeedServer, WebhookReceiver]:
    return feeds, receiver


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it is sent."""
    server = SmtpSink()
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty store on each backend in turn: a SQLite file, then a new PostgreSQL database."""
    async with fresh_storage(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def engine(storage: str) -> AsyncIterator[AsyncEngine]:
    """The store opened (schema migrated) on each backend in turn."""
    opened = await open_engine(storage)
    yield opened
    await opened.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the browser tests left their screenshots (tests/support/browsing.py), for a person
    to look at; nothing when no such test ran (the module is not even imported then)."""
    browsing = sys.modules.get("tests.support.browsing")
    written: list[Path] = [] if browsing is None else browsing.WRITTEN
    if written:
        folder = written[0].parent
        terminalreporter.write_sep("-", "screenshots")
        terminalreporter.write_line(f"{len(written)} screenshots of the web app in {folder}/")
