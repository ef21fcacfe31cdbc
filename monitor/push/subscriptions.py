"""The daemon's WebSub subscriber: subscribes the sources whose feed names a hub, answers the
hubs' verifications, takes their deliveries into the pipeline, renews leases, and says which
sources the hubs are trusted to deliver (polled less often, see monitor.push)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta

from monitor.config.sections import WebSubConfig
from monitor.core.errors import FetchError, SourceError
from monitor.core.logs import event
from monitor.core.models import Fetched, HubLink
from monitor.net.http import HttpClient
from monitor.push import hub
from monitor.push.signature import signed
from monitor.push.timing import (
    UNSUBSCRIBE_TRIES,
    granted_lease,
    renew_at,
    retry_at,
    verify_by,
)
from monitor.store.push import PushStore, Subscription

DUE_AT_ONCE = 50  # requests sent per round; the rest wait for the next one
# (source name, the delivered feed) -> whether the source is still configured
Receive = Callable[[str, Fetched], Awaitable[bool]]
# the sources a hub is no longer trusted to deliver: back on their own interval
Hasten = Callable[[frozenset[str]], Awaitable[None]]


class WebSub:
    def __init__(
        self,
        store: PushStore,
        http: HttpClient,
        settings: WebSubConfig,
        callbacks: str,  # the public URL hubs call, without the callback's id
        clock: Callable[[], datetime],
        receive: Receive,
        hasten: Hasten,
    ) -> None:
        self.store, self.http, self.settings = store, http, settings
        self.callbacks, self.clock, self.receive, self.hasten = callbacks, clock, receive, hasten
        self.links: dict[str, HubLink] = {}  # what the store says each source's hub is
        self.delivering: frozenset[str] = frozenset()  # see Subscription.delivering

    async def start(self) -> None:
        await self.refresh()

    async def noticed(self, source: str, link: HubLink | None) -> None:
        """A poll read ``source``'s feed, which names ``link`` (None: no hub)."""
        if self.links.get(source) == link:
            return
        changed = await self.store.want(source, link, self.clock())
        if link is None:  # (after the store: a failed write is tried again at the next poll)
            self.links.pop(source, None)
        else:
            self.links[source] = link
        if changed:
            event("websub-hub", source=source, hub=link.hub if link else None)
            await self.renew_due()

    async def keep_only(self, sources: Collection[str]) -> None:
        """Unsubscribe the sources the configuration no longer has."""
        if await self.store.keep_only(sources, self.clock()):
            await self.renew_due()

    async def keep_defined(self) -> None:
        """Store mode: unsubscribe the sources the store has removed (its table decides)."""
        if await self.store.keep_defined(self.clock()):
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
        if sub is None:
            return None
        topic = params.get("hub.topic")
        expected = "subscribe" if sub.wanted else "unsubscribe"
        if mode == "denied" and topic == sub.topic:
            return await self._denied(sub, params.get("hub.reason") or "no reason given")
        if topic != sub.topic or mode != expected or not challenge:
            event(
                "websub-verify-refused",
                level=logging.WARNING,
                source=sub.source,
                hub=sub.hub,
                mode=mode,
                expected=expected,
                topic=topic,
                our_topic=sub.topic,
            )
            return None
        if not sub.wanted:
            await self.store.delete(callback)
            event("websub-unsubscribed", source=sub.source, hub=sub.hub)
            return challenge
        now = self.clock()
        lease = granted_lease(params.get("hub.lease_seconds"), self.settings.lease)
        await self.store.verified(callback, now, now + lease, renew_at(now, lease))
        event("websub-subscribed", source=sub.source, hub=sub.hub, lease=f"{lease}")
        await self.refresh()
        return challenge

    async def _denied(self, sub: Subscription, reason: str) -> str:
        if sub.wanted:
            await self.store.denied(sub.callback, reason, retry_at(self.clock(), sub.attempts))
            await self.refresh()
        else:  # what we were unsubscribing from: done
            await self.store.delete(sub.callback)
        event("websub-denied", level=logging.WARNING, source=sub.source, reason=reason)
        return ""

    async def deliver(
        self,
        callback: str,
        body: Callable[[], Awaitable[bytes]],
        content_type: str | None,
        signature: str | None,
    ) -> int:
        """Take a hub's delivery (``body`` reads it) into the pipeline; the status to answer."""
        sub = await self.store.get(callback)
        if sub is None or not sub.wanted:
            return 410  # the hub may drop the subscription (WebSub §7); nothing is read
        data = await body()
        if not signed(sub.secret, data, signature):
            event("websub-unsigned", level=logging.WARNING, source=sub.source, hub=sub.hub)
            return 202  # ignored, as §8 asks; the answer tells a forger nothing
        fetched = Fetched(sub.topic, 200, data, content_type, None, None)
        try:
            if not await self.receive(sub.source, fetched):
                return 503  # not configured here (yet): another replica, or a retry, takes it
        except SourceError as exc:  # the next poll reads the feed itself
            event("websub-unreadable", level=logging.WARNING, source=sub.source, error=str(exc))
            return 202
        await self.store.pushed(callback, self.clock())
        if sub.source not in self.delivering:
            await self.refresh()
        return 204

    async def pushed_since(self, source: str, since: datetime | None) -> bool:
        """Whether ``source``'s hub delivered anything since ``since`` (None: ever)."""
        sub = await self.store.of_source(source)
        pushed = None if sub is None else sub.last_push_at
        return pushed is not None and (since is None or pushed >= since)

    async def missed(self, source: str) -> None:
        """A poll of ``source`` found items its hub had not delivered: it is polled at its own
        interval again until the hub delivers."""
        await self.store.quiet(source, self.clock())
        event("websub-quiet", level=logging.WARNING, source=source)
        await self.refresh()

    async def refresh(self) -> None:
        """Read again what the store says (another replica may have changed it): each
        source's hub, and those the hubs are trusted to deliver; the sources no longer trusted
        are handed to ``hasten``, to be polled on their own interval at once."""
        now = self.clock()
        rows = [sub for sub in await self.store.all() if sub.wanted]
        before = self.delivering
        self.links = {sub.source: sub.link for sub in rows}
        self.delivering = frozenset(sub.source for sub in rows if sub.delivering(now))
        if before - self.delivering:
            await self.hasten(before - self.delivering)

    def poll_interval(self, interval: timedelta) -> timedelta:
        """How often a source the hub delivers is polled, as a check."""
        return max(interval, self.settings.poll_every)
