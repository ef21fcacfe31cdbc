"""The daemon's WebSub subscriber: subscribes the sources whose feed names a hub, answers the
hubs' verifications, takes their deliveries into the pipeline, renews leases, and says which
sources the hubs are trusted to deliver (polled less often, see monitor.websub)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta

from monitor.config import WebSubConfig
from monitor.errors import FetchError, SourceError
from monitor.http import HttpClient
from monitor.logs import event
from monitor.models import Fetched, HubLink
from monitor.store.push import PushStore, Subscription
from monitor.websub import hub
from monitor.websub.signature import signed
from monitor.websub.timing import (
    UNSUBSCRIBE_TRIES,
    granted_lease,
    renew_at,
    retry_at,
    verify_by,
)

DUE_AT_ONCE = 50  # requests sent per round; the rest wait for the next one
# (source name, the delivered feed) -> whether the source is still configured
Receive = Callable[[str, Fetched], Awaitable[bool]]


class WebSub:
    def __init__(
        self,
        store: PushStore,
        http: HttpClient,
        settings: WebSubConfig,
        callbacks: str,  # the public URL hubs call, without the callback's id
        clock: Callable[[], datetime],
        receive: Receive,
    ) -> None:
        self.store, self.http, self.settings = store, http, settings
        self.callbacks, self.clock, self.receive = callbacks, clock, receive
        self.links: dict[str, HubLink] = {}  # what the store says each source's hub is
        self.delivering: frozenset[str] = frozenset()  # see Subscription.delivering

    async def start(self) -> None:
        self.links = await self.store.links()
        await self.refresh()

    async def noticed(self, source: str, link: HubLink | None) -> None:
        """A poll read ``source``'s feed, which names ``link`` (None: no hub)."""
        if self.links.get(source) == link:
            return
        if link is None:
            self.links.pop(source, None)
        else:
            self.links[source] = link
        if await self.store.want(source, link, self.clock()):
            event("websub-hub", source=source, hub=link.hub if link else None)
            await self.renew_due()

    async def keep_only(self, sources: Collection[str]) -> None:
        """Unsubscribe the sources the configuration no longer has."""
        keep = set(sources)
        self.links = {name: link for name, link in self.links.items() if name in keep}
        if await self.store.keep_only(keep, self.clock()):
            await self.renew_due()

    async def renew_due(self) -> None:
        """Send the requests that are due: new subscriptions, renewals before a lease ends,
        retries, unsubscriptions. Each is claimed first, so one replica sends it."""
        now = self.clock()
        for sub in await self.store.due(now, DUE_AT_ONCE):
            if not sub.wanted and sub.attempts >= UNSUBSCRIBE_TRIES:
                await self.store.delete(sub.callback)  # its lease ends the hub's deliveries
            elif await self.store.claim(sub, now, verify_by(now, sub.attempts)):
                await self._ask(sub, now)
        await self.refresh()

    async def _ask(self, sub: Subscription, now: datetime) -> None:
        try:
            await hub.ask(self.http, sub, self.callback_url(sub), self.settings.lease)
        except FetchError as exc:
            tries = sub.attempts + 1
            await self.store.failed(sub.callback, str(exc), retry_at(now, tries))
            event(
                "websub-request-failed",
                level=logging.WARNING,
                source=sub.source,
                hub=sub.hub,
                mode="subscribe" if sub.wanted else "unsubscribe",
                error=str(exc),
                attempts=tries,
            )
            return
        event("websub-requested", source=sub.source, hub=sub.hub, wanted=sub.wanted)

    def callback_url(self, sub: Subscription) -> str:
        return f"{self.callbacks}/{sub.callback}"

    async def verify(self, callback: str, params: Mapping[str, str]) -> str | None:
        """Answer a hub's verification: the challenge when it is for what we asked."""
        sub = await self.store.get(callback)
        mode, challenge = params.get("hub.mode"), params.get("hub.challenge")
        if sub is None or params.get("hub.topic") != sub.topic:
            return None
        now = self.clock()
        if mode == "denied":
            reason = params.get("hub.reason") or "no reason given"
            await self.store.denied(callback, reason, retry_at(now, sub.attempts + 1))
            event("websub-denied", level=logging.WARNING, source=sub.source, reason=reason)
            await self.refresh()
            return ""
        if not challenge or mode != ("subscribe" if sub.wanted else "unsubscribe"):
            return None
        if not sub.wanted:
            await self.store.delete(callback)
            event("websub-unsubscribed", source=sub.source, hub=sub.hub)
            return challenge
        lease = granted_lease(params.get("hub.lease_seconds"), self.settings.lease)
        await self.store.verified(callback, now, now + lease, renew_at(now, lease))
        event("websub-subscribed", source=sub.source, hub=sub.hub, lease=f"{lease}")
        await self.refresh()
        return challenge

    async def deliver(
        self, callback: str, body: bytes, content_type: str | None, signature: str | None
    ) -> int:
        """Take a hub's delivery into the pipeline; the status to answer the hub."""
        sub = await self.store.get(callback)
        if sub is None or not sub.wanted:
            return 410  # the hub may drop the subscription (WebSub §7)
        if not signed(sub.secret, body, signature):
            event("websub-unsigned", level=logging.WARNING, source=sub.source, hub=sub.hub)
            return 202  # ignored, as §8 asks; the answer tells a forger nothing
        fetched = Fetched(sub.topic, 200, body, content_type, None, None)
        try:
            if not await self.receive(sub.source, fetched):
                return 410
        except SourceError as exc:  # the next poll reads the feed itself
            event("websub-unreadable", level=logging.WARNING, source=sub.source, error=str(exc))
            return 202
        await self.store.pushed(callback, self.clock())
        if sub.source not in self.delivering:
            await self.refresh()
        return 204

    async def missed(self, source: str) -> None:
        """A poll of ``source`` found items its hub had not delivered: it is polled at its own
        interval again until the hub delivers."""
        await self.store.quiet(source, self.clock())
        event("websub-quiet", level=logging.WARNING, source=source)
        await self.refresh()

    async def refresh(self) -> None:
        self.delivering = await self.store.delivering(self.clock())

    def poll_interval(self, interval: timedelta) -> timedelta:
        """How often a source the hub delivers is polled, as a check."""
        return max(interval, self.settings.poll_every)
