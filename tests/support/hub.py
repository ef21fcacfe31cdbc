"""A WebSub hub on loopback, as the W3C recommendation describes one: it takes subscription
requests (202), verifies each by calling the callback with a challenge, and delivers what is
published to the verified subscribers, signed with their secret."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.support.peers import _Loopback


@dataclass
class Subscriber:
    callback: str
    topic: str
    secret: str
    lease_seconds: int


@dataclass
class Verification:
    mode: str
    callback: str
    status: int
    echoed: bool  # the answer's body was the challenge


@dataclass
class LoopbackHub(_Loopback):
    lease_seconds: int | None = None  # granted; None: what the subscriber asked
    statuses: list[int] = field(default_factory=list)  # answers to requests, then 202
    requests: list[dict[str, str]] = field(default_factory=list)
    verifications: list[Verification] = field(default_factory=list)
    subscribers: dict[str, Subscriber] = field(default_factory=dict)  # by callback

    def __post_init__(self) -> None:
        super().__init__()
        self.app.router.add_post("/", self._request)
        self.app.router.add_post("/moved", self._moved)  # a hub's old address
        self._verified = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _request(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(form)
        status = self.statuses.pop(0) if self.statuses else 202
        if status == 202:  # verified after the answer, as hubs do
            task = asyncio.create_task(self._verify(form))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.Response(status=status, text="refused" if status >= 400 else "")

    async def _moved(self, request: web.Request) -> web.Response:
        return web.Response(status=301, headers={"Location": "/"})

    async def _verify(self, form: dict[str, str]) -> None:
        mode, callback = form["hub.mode"], form["hub.callback"]
        lease = self.lease_seconds or int(form.get("hub.lease_seconds", "864000"))
        challenge = secrets.token_urlsafe(16)
        params = {"hub.mode": mode, "hub.topic": form["hub.topic"], "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        async with aiohttp.ClientSession() as session, session.get(callback, params=params) as r:
            text = await r.text()
        echoed = 200 <= r.status < 300 and text == challenge
        self.verifications.append(Verification(mode, callback, r.status, echoed))
        if echoed and mode == "subscribe":
            self.subscribers[callback] = Subscriber(
                callback, form["hub.topic"], form["hub.secret"], lease
            )
        elif echoed:
            self.subscribers.pop(callback, None)
        self._verified.set()

    async def wait_for_verifications(self, count: int) -> None:
        while len(self.verifications) < count:
            self._verified.clear()
            await self._verified.wait()

    async def deny(self, topic: str, reason: str) -> int:
        """Tell the subscribers of ``topic`` their subscription is refused."""
        statuses = []
        for sub in [s for s in self.subscribers.values() if s.topic == topic]:
            params = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": reason}
            async with aiohttp.ClientSession() as session:
                async with session.get(sub.callback, params=params) as r:
                    statuses.append(r.status)
            del self.subscribers[sub.callback]
        return statuses[0]

    async def publish(
        self, topic: str, body: bytes, *, secret: str | None = None, method: str = "sha256"
    ) -> list[int]:
        """Deliver ``body`` to the verified subscribers of ``topic``; their answers. The
        signature uses each one's secret, or ``secret`` (a forger's)."""
        statuses = []
        for sub in [s for s in self.subscribers.values() if s.topic == topic]:
            key = (secret or sub.secret).encode()
            signature = f"{method}={hmac.new(key, body, getattr(hashlib, method)).hexdigest()}"
            headers = {
                "Content-Type": "application/rss+xml",
                "X-Hub-Signature": signature,
                "Link": f'<{self.url}/>; rel="hub", <{topic}>; rel="self"',
            }
            async with aiohttp.ClientSession() as session:
                async with session.post(sub.callback, data=body, headers=headers) as r:
                    statuses.append(r.status)
        return statuses

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().close()
