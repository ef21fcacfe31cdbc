"""The routes hubs call, under ``/websub/`` on the daemon's HTTP server (monitor.web.server):

- ``GET /websub/{callback}?hub.mode=…&hub.topic=…&hub.challenge=…``: the hub verifies a
  request; the challenge is echoed (200) when the store says we asked for it, else 404. A
  ``denied`` notice is acknowledged (200).
- ``POST /websub/{callback}``: a delivery, the feed's new content, signed. 2xx once recorded
  (also for one ignored, unsigned or unreadable, as WebSub §8 allows: the hub gains nothing
  from retrying it); 410 for a subscription we no longer hold, so the hub drops it; 503 when
  the store cannot record it, so the hub delivers it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Protocol

from aiohttp import web

from monitor.core.errors import StoreError
from monitor.core.logs import event
from monitor.net.http import read_capped


class PushReceiver(Protocol):
    async def verify(self, callback: str, params: Mapping[str, str]) -> str | None:
        """The text to answer a verification with, or None: not a request of ours."""
        ...

    async def deliver(
        self,
        callback: str,
        body: Callable[[], Awaitable[bytes]],
        content_type: str | None,
        signature: str | None,
    ) -> int:
        """Take a delivery (``body`` reads it, once the callback is known); the status to
        answer."""
        ...


class PushRoutes:
    def __init__(self, receiver: PushReceiver, max_bytes: int) -> None:
        self.receiver, self.max_bytes = receiver, max_bytes

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/websub/{callback}", self._verify)
        router.add_post("/websub/{callback}", self._deliver)

    async def _verify(self, request: web.Request) -> web.Response:
        try:
            answer = await self.receiver.verify(request.match_info["callback"], request.query)
        except StoreError as exc:
            event("websub-store-error", error=str(exc))
            return web.Response(status=503, text="store unavailable")
        if answer is None:
            return web.Response(status=404, text="no such subscription request")
        return web.Response(text=answer, content_type="text/plain")

    async def _deliver(self, request: web.Request) -> web.Response:
        try:
            status = await self.receiver.deliver(
                request.match_info["callback"],
                partial(self._body, request),
                request.headers.get("Content-Type"),
                request.headers.get("X-Hub-Signature"),
            )
        except StoreError as exc:
            event("websub-store-error", error=str(exc))
            return web.Response(status=503, text="store unavailable")
        return web.Response(status=status)

    async def _body(self, request: web.Request) -> bytes:
        """The delivery's (decoded) body, refused past network.max_bytes (the app's own cap
        is the few bytes a one-click unsubscribe needs)."""
        declared = request.content_length
        body = None
        if declared is None or declared <= self.max_bytes:
            body = await read_capped(request.content, self.max_bytes)
        if body is None:
            raise web.HTTPRequestEntityTooLarge(
                max_size=self.max_bytes,
                actual_size=declared or self.max_bytes + 1,
                text=f"body larger than {self.max_bytes} bytes (network.max_bytes)",
            )
        return body
