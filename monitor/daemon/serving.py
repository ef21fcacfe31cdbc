"""The daemon's HTTP side (``http:``): the server — one-click unsubscribe, the operations
endpoints, WebSub callbacks, the rules' Atom feeds — started once the daemon runs, the hubs'
deliveries handed to the poll recipe, and what the operations endpoints answer."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from monitor.core.errors import StoreError
from monitor.core.models import Fetched
from monitor.daemon.app import App
from monitor.poll.claims import POLL_TICK
from monitor.push.subscriptions import WebSub
from monitor.store import answers
from monitor.store.catalog import definitions_of
from monitor.store.gauges import count_polled, read_gauges
from monitor.store.push import PushStore

if TYPE_CHECKING:
    from monitor.config.model import Config
    from monitor.push.callback import PushRoutes
    from monitor.web.pages import AppRoutes
    from monitor.web.preferences import PreferencesRoutes
    from monitor.web.signup import SignupRoutes

READY_TIMEOUT = 2.0  # seconds the store may take to answer /readyz
# the sources polled are counted by a scan of the table: at most once a minute, whatever the
# scrapes (at 1,000,000 sources a count took 0.2 s of PostgreSQL)
COUNT_EVERY = 60.0


class Operations:
    """What /healthz, /readyz and /metrics ask of a running App (monitor.web.server)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._polled: tuple[float, int] | None = None  # (when, sources polled)

    def healthy(self) -> str | None:
        """/healthz: None while the scheduler ticks, else why not."""
        app = self.app
        if app.ticked is None:
            return "not started"
        late = time.monotonic() - app.ticked
        limit = 3 * POLL_TICK.total_seconds()
        return None if late <= limit and not app.stopping else f"no tick for {late:.0f}s"

    async def ready(self) -> str | None:
        """/readyz: None when the store answers (and a configuration is loaded)."""
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                await answers(self.app.store.engine)
        except (StoreError, TimeoutError) as exc:
            return f"store unreachable: {exc or 'timeout'}"
        return None

    async def metrics_text(self) -> bytes:
        app, at = self.app, time.monotonic()
        if self._polled is None or at - self._polled[0] >= COUNT_EVERY:  # (a table scan)
            self._polled = (at, await count_polled(app.store.engine))
        now = app.clock()
        gauges = await read_gauges(app.store.engine, now, self._polled[1])
        return app.metrics.render(gauges, now)


async def serve_http(app: App) -> int | None:
    """Start the server when ``http:`` is configured; returns its port. It is stopped when the
    App closes (or earlier, by run_forever at shutdown)."""
    config = app.config
    if config.http is None or app.web is not None:
        return None if app.web is None else app.web.port
    host, port = config.http.address
    from monitor.web.feeds import FeedRoutes
    from monitor.web.server import WebServer  # aiohttp's server only when configured

    routes = _push_routes(app)
    pages, signup, preferences = await _page_routes(app)
    # the rules in force, reloads too; part of the web app: served only with http.app
    feeds = FeedRoutes(app.store.engine, lambda: app.config) if config.http.app else None
    app.web = WebServer(
        app.token_key, app.unsubscribe, app.clock, host, port,
        operations=Operations(app), push=routes, feeds=feeds, pages=pages,
        binds=app.link_binds, signup=signup, preferences=preferences,
    )  # fmt: skip
    bound = await app.web.start()
    app.at_close(app.web.close)
    if app.websub is not None:  # the hubs can verify our requests from now on
        await app.websub.start()
        if app.stored is None:
            await app.websub.keep_only(app.sources)
        else:  # store mode: the table, not the sources held, decides
            await app.websub.keep_defined()
        app.poller.websub = app.polling.websub = app.websub
    app.serving.set()
    return bound


async def _page_routes(
    app: App,
) -> tuple[AppRoutes | None, SignupRoutes | None, PreferencesRoutes | None]:
    """The analysts' web app, when ``http.app`` is configured, and the subscribers' sign-up
    and preferences pages, when ``http.signup`` is (each group's routes exist only then); one
    Renderer serves them all."""
    http = app.config.http
    if http is None or (http.app is None and http.signup is None):
        return None, None, None
    from monitor.web.pages import AppRoutes
    from monitor.web.render import Renderer
    from monitor.web.session import load_web_key
    from monitor.web.signup import SignupRoutes

    def config() -> Config:
        return app.config  # the effective subscribers, reloads too

    key = await load_web_key(app.store.engine)
    renderer = Renderer(config)
    pages = (
        None if http.app is None else AppRoutes(config, app.store.engine, key, app.clock, renderer)
    )
    if http.signup is None:
        return pages, None, None
    from monitor.web.preferences import PreferencesRoutes

    def configured() -> Config:
        return app.configured  # as loaded: the subscribers without their own choices

    signup = SignupRoutes(config, app.store.engine, key, app.token_key, app.clock, renderer)
    app.at_close(signup.settled)
    preferences = PreferencesRoutes(
        configured, app.book, app.standing, app.token_key, app.clock, app.unsubscribe,
        renderer.templates,
    )  # fmt: skip
    return pages, signup, preferences


def _push_routes(app: App) -> PushRoutes | None:
    """Push, when the server has a public address: the hubs' callbacks (monitor.push)."""
    http = app.config.http
    callbacks = None if http is None else http.websub_callbacks
    if callbacks is None or http is None:
        return None
    from monitor.push.callback import PushRoutes

    async def pushed(name: str, fetched: Fetched) -> bool:
        return await _pushed(app, name, fetched)

    async def hasten(names: frozenset[str]) -> None:
        await _hasten(app, names)

    app.websub = WebSub(
        PushStore(app.store.engine), app.http, http.websub, callbacks, app.clock, pushed, hasten
    )
    return PushRoutes(app.websub, app.config.network.max_bytes)


async def _pushed(app: App, name: str, fetched: Fetched) -> bool:
    """A hub delivered ``fetched`` for source ``name``: False when it is not configured."""
    source = (await definitions_of(app.sources, [name])).get(name)
    if source is None:
        return False
    report = await app.poller.run_push(source, fetched)
    if report.matched_items:
        app.polling.flush_soon()
    return True


async def _hasten(app: App, names: frozenset[str]) -> None:
    """Sources a hub no longer delivers: due one interval after their last poll (their
    definitions read from the store in store mode: any of them, not only those held)."""
    rt = app.in_force()
    defined = await definitions_of(rt.sources, sorted(names))
    states = await app.store.states(list(defined))
    due = {
        name: (state.last_poll_at or app.clock()) + app.poller.interval(rt.config, defined[name])
        for name, state in states.items()
        if name in defined
    }
    await app.store.hasten(due)
    if due:
        app.polling.wake_by(min(due.values()))
