"""Hostile sources on the wire, each a real misbehaving server on loopback, polled by the whole
daemon beside a healthy source whose alert must still arrive (issue 3, reliability F2/F3/F7/F8).

Documents that attack the parser are in test_hostile_documents.py; both use the helpers here.
"""

from __future__ import annotations

import asyncio
import resource
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.hostile import (
    MB,
    Hostile,
    assert_failed_alone,
    beside_healthy,
)
from tests.support.net import Listener
from tests.support.peers import FeedServer, WebhookReceiver

# --- the hostile peer's fixtures ------------------------------------------------------------


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """1 GiB of zeros, gzip-encoded: about 1 MiB on the wire (made once, in a few seconds)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join(packer.compress(zeros) for _ in range(1024)) + packer.flush()


@pytest.fixture
async def hostile(gzip_bomb: bytes) -> AsyncIterator[Hostile]:
    server = Hostile(gzip_bomb)
    await server.start()
    yield server
    await server.close()


# --- misbehaving servers ---------------------------------------------------------------------


@dataclass
class Mute:
    """Accepts TCP connections and never sends a byte."""

    accepted: int = 0
    server: asyncio.Server | None = None
    url: str = ""

    async def start(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.writers.append(writer)  # kept open, never answered

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


# --- the cases ---------------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_gzip_bomb_stops_at_max_bytes_decoded(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, hostile: Hostile
) -> None:
    assert len(hostile.bomb) < 1.1 * MB  # 1 GiB once decoded
    daemon = beside_healthy(tmp_path, feeds, receiver, hostile.url + "/bomb")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    reports = await daemon.run()
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    error = assert_failed_alone(reports, daemon, "body larger than 10485760 bytes")
    assert "network.max_bytes" in error
    assert hostile.hits["/bomb"] == 1
    assert (peak_after - peak_before) * 1024 < 100 * MB


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/endless", "body larger than 10485760 bytes"),  # the size cap comes first
        ("/drip", "127.0.0.1: timed out"),  # the total deadline, not a per-read one
    ],
)
async def test_endless_and_dripping_bodies_are_cut(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    hostile: Hostile,
    path: str,
    message: str,
) -> None:
    daemon = beside_healthy(
        tmp_path, feeds, receiver, hostile.url + path, timeout=timedelta(seconds=2)
    )
    assert_failed_alone(await daemon.run(), daemon, message)
    assert hostile.hits[path] == 1


@pytest.mark.slow
async def test_a_server_that_accepts_and_never_answers_is_cut_by_the_deadline(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    mute = Mute()
    await mute.start()
    try:
        daemon = beside_healthy(
            tmp_path, feeds, receiver, mute.url + "/feed", timeout=timedelta(seconds=2)
        )
        assert_failed_alone(await daemon.run(), daemon, "127.0.0.1: timed out")
    finally:
        await mute.close()
    assert mute.accepted == 1


@pytest.mark.slow
@pytest.mark.parametrize(("path", "hits"), [("/loop", "/loop"), ("/chain/0", "/chain/10")])
async def test_redirect_loops_and_chains_stop_after_ten_hops(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    hostile: Hostile,
    path: str,
    hits: str,
) -> None:
    daemon = beside_healthy(tmp_path, feeds, receiver, hostile.url + path)
    assert_failed_alone(await daemon.run(), daemon, "too many redirects (more than 10)")
    assert sum(hostile.hits.values()) == 11  # the first request and ten hops, no more
    assert hits in hostile.hits


@pytest.mark.slow
async def test_a_redirect_to_a_refused_address_makes_no_connection(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, hostile: Hostile
) -> None:
    inside = Listener(host="127.0.0.2")  # stands for an internal address
    await inside.start()
    hostile.redirect_to = f"http://127.0.0.2:{inside.port}/secret"
    try:
        daemon = beside_healthy(
            tmp_path, feeds, receiver, hostile.url + "/away", allow="127.0.0.1/32"
        )
        error = assert_failed_alone(await daemon.run(), daemon, "refused 127.0.0.2")
    finally:
        await inside.close()
    assert "not a public address" in error
    assert hostile.hits["/away"] == 1
    assert inside.accepted == 0
