"""Fixtures shared by the whole-daemon tests: a feed server and a webhook receiver on loopback.

A test may hold either one on a gate; it is released before the server closes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.peers import FeedServer, WebhookReceiver


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
