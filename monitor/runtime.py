"""One configuration made runnable (DESIGN §2): the configuration with its matcher, router,
notifiers and the SMTP connections they share, built together and swapped whole, by one
reference, on reload. A poll, a claim and a flush each read the one in force when they start
(through monitor.poll.report.PollRuntime, monitor.poll.claims.ClaimRuntime and
monitor.delivery.dispatch.SendRuntime) and keep it to the end: what a poll uses is the snapshot
it took, whatever a reload does meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

import aiohttp

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.clock import Clock
from monitor.delivery.routing import Router
from monitor.digest.render import Renderer, load_templates
from monitor.net.http import HttpClient
from monitor.notifiers import NotifierContext, build_notifier
from monitor.notifiers.base import Notifier
from monitor.notifiers.smtp_pool import SmtpPool
from monitor.rules.matcher import Matcher
from monitor.store.catalog import StoredSources


@dataclass(frozen=True, slots=True)
class Runtime:
    config: Config
    sources: Mapping[str, SourceConfig]
    subscribers: Mapping[str, SubscriberConfig]
    matcher: Matcher
    router: Router
    notifiers: Mapping[str, Notifier]
    mailer: SmtpPool | None  # the SMTP connections the email notifiers share

    @property
    def zone(self) -> ZoneInfo:
        return self.config.zone

    @property
    def lease(self) -> timedelta:
        return self.config.cluster.lease

    def routing(self, unsubscribed: Collection[str]) -> Runtime:
        """The same, routing nothing new to ``unsubscribed`` (RFC 8058 one-click)."""
        return replace(self, router=Router(self.config.subscribers, unsubscribed))


def build_runtime(
    config: Config,
    *,
    session: aiohttp.ClientSession,
    http: HttpClient | None = None,
    stdout: TextIO,
    clock: Clock,
    unsubscribe_url: Callable[[str, str, datetime], str] | None,
    preferences_url: Callable[[str, str, datetime], str] | None = None,
    unsubscribed: Collection[str],
    mailer: SmtpPool | None,
    stored: StoredSources | None = None,
) -> Runtime:
    """Everything ``config`` needs to run; raises ConfigError before anything changes. The
    ``mailer`` in use is kept while the ``smtp`` section is the same. In store mode
    (``sources_from: store``) the sources are ``stored``: those read from the store lately."""
    if config.smtp is None or mailer is None or mailer.config != config.smtp:
        mailer = None if config.smtp is None else SmtpPool(config.smtp)
    context = NotifierContext(
        renderer=Renderer.for_config(config, load_templates(config.templates)),
        smtp=config.smtp,
        session=session,
        stdout=stdout,
        timeout=config.network.timeout.total_seconds(),
        unsubscribe_url=unsubscribe_url,
        preferences_url=preferences_url,
        mailer=mailer,
        clock=clock,
        http=http,
    )
    sources: Mapping[str, SourceConfig] = {s.name: s for s in config.sources}
    if config.sources_from == "store":
        assert stored is not None, "store mode reads the sources from the store"
        sources = stored
    return Runtime(
        config,
        sources,
        {s.name: s for s in config.subscribers},
        Matcher(config.rules, config.source_tags(), tags_at_match=config.sources_from == "store"),
        Router(config.subscribers, unsubscribed),
        {s.name: build_notifier(s, context) for s in config.subscribers},
        mailer,
    )
