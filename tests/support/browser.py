"""Headless Chromium driven over the Chrome DevTools Protocol (CDP), with aiohttp's websocket
client: no browser download and no driver package. Debian's ``chromium`` is enough; the
Makefile installs it before ``make test`` when it is missing.

Also a small PNG reader, so a screenshot can be checked without an imaging library."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# As the machine notes say: without the background-networking flags Chromium reaches for
# Google's hosts at start, which would both fail here and pollute "no external request".
# Shared with the Playwright tests (tests/support/browsing.py), which add the rest themselves.
QUIET = (
    "--no-sandbox",  # the CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
FLAGS = (
    "--headless",
    *QUIET,
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",  # the chosen port is printed on stderr
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


@dataclass
class Page:
    """One tab: ``send`` CDP commands to it; every event it emits lands in ``events``."""

    browser: Browser
    session_id: str
    events: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, session_id=self.session_id)

    async def wait_for(self, method: str) -> dict[str, Any]:
        """The first event named ``method`` (bound it with asyncio.timeout)."""
        while True:
            for event in self.events:
                if event["method"] == method:
                    return event
            self.browser.arrived.clear()
            await self.browser.arrived.wait()

    def params(self, method: str) -> list[dict[str, Any]]:
        return [e.get("params", {}) for e in self.events if e["method"] == method]


class Browser:
    """A Chromium process and one CDP websocket to it (flat sessions, one per page)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.arrived = asyncio.Event()
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._pages: dict[str, Page] = {}

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        await self.ws.send_json(message)
        return await future

    async def new_page(self) -> Page:
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        page = Page(self, attached["sessionId"])
        self._pages[page.session_id] = page
        return page

    async def read(self) -> None:
        """Route answers to their callers and events to their page, until the socket closes."""
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data: dict[str, Any] = message.json()
            if "id" in data:
                future = self._pending.pop(data["id"])
                if "error" in data:
                    future.set_exception(RuntimeError(f"CDP error: {data['error']}"))
                else:
                    future.set_result(data.get("result", {}))
            elif (page := self._pages.get(data.get("sessionId", ""))) is not None:
                page.events.append(data)
                self.arrived.set()
        for future in self._pending.values():  # the browser went away mid-command
            future.set_exception(RuntimeError("Chromium closed the DevTools connection"))


async def _devtools_url(stderr: asyncio.StreamReader, seen: list[str]) -> str:
    while line := await stderr.readline():
        text = line.decode(errors="replace")
        seen.append(text)
        if found := _LISTENING.search(text):
            return found.group(1)
    raise RuntimeError("Chromium exited before DevTools listened:\n" + "".join(seen))


async def _drain(stderr: asyncio.StreamReader, seen: list[str]) -> None:
    # Chromium logs on stderr all along: keep reading, or a full pipe would stall it.
    while line := await stderr.readline():
        seen.append(line.decode(errors="replace"))


def _kill_group(pid: int) -> None:
    # Chromium forks a zygote, renderers and utilities into its own process group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Browser]:
    """Start headless Chromium with a new empty profile in ``profile`` (Chromium creates the
    folder); always stop it whole, its child processes included."""
    if not os.access(CHROMIUM, os.X_OK):
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`; "
            "`make test` does it when run as root) or point $CHROMIUM at a Chromium binary"
        )
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, killed as one at the end
    )
    assert process.stderr is not None
    log: list[str] = []
    drain: asyncio.Task[None] | None = None
    closing = False
    try:
        async with asyncio.timeout(30):
            url = await _devtools_url(process.stderr, log)
        drain = asyncio.create_task(_drain(process.stderr, log))
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, max_msg_size=0) as ws,  # screenshots exceed the 4 MB default
        ):
            browser = Browser(ws)
            reader = asyncio.create_task(browser.read())
            try:
                yield browser
            finally:
                with contextlib.suppress(RuntimeError, ConnectionError, TimeoutError):
                    async with asyncio.timeout(5):
                        closing = True
                        await browser.send("Browser.close")
                await ws.close()
                await reader
    finally:
        if closing:  # let it stop its own children first; whatever is left is killed below
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await process.wait()
        _kill_group(process.pid)
        await process.wait()
        if drain is not None:
            await drain


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    pixels: list[bytes]  # one bytes object per pixel: RGB or RGBA

    def colours(self) -> set[bytes]:
        return set(self.pixels)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prior: bytes, step: int) -> None:
    for i in range(len(line)):
        left = line[i - step] if i >= step else 0
        up = prior[i]
        corner = prior[i - step] if i >= step else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            line[i] = (line[i] + _paeth(left, up, corner)) & 0xFF


def read_png(data: bytes) -> Png:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium's screenshots are)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG: bad signature")
    chunks: dict[bytes, bytes] = {}
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunks[kind] = chunks.get(kind, b"") + data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}")
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * step
    prior = bytes(stride)
    pixels: list[bytes] = []
    for row in range(height):
        start = row * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], line, prior, step)
        pixels += [bytes(line[i : i + step]) for i in range(0, stride, step)]
        prior = bytes(line)
    return Png(width, height, pixels)
