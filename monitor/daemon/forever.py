"""The daemon run for good (``monitor run``): the scheduler's jobs started, signals handled,
and a stop that loses nothing: polls in flight get a moment, a send in progress is recorded,
and what is cut short is done again at the next start."""

from __future__ import annotations

import asyncio
import logging
import signal

from monitor.core.logs import event
from monitor.core.redact import redact_url
from monitor.daemon.app import App
from monitor.daemon.jobs import build_scheduler
from monitor.daemon.serving import serve_http

SHUTDOWN_GRACE = 8.0  # seconds given to polls and sends in flight at SIGTERM


async def run_forever(app: App, stop: asyncio.Event) -> None:
    """Serve, tick and send until ``stop`` is set, then stop cleanly."""
    loop = asyncio.get_running_loop()
    await serve_http(app)
    renew = None if app.websub is None else app.websub.renew_due
    scheduler = build_scheduler(
        app.tick, app.dispatcher.flush, app.heartbeat, app.prune, loop, renew
    )
    event(
        "start",
        sources=len(app.sources),
        subscribers=len(app.config.subscribers),
        storage=redact_url(app.config.storage),
    )
    try:
        await app.tick()
        scheduler.start()
        await stop.wait()
    finally:
        if scheduler.running:
            scheduler.pause()  # no new tick; a digest being sent finishes in drain
        if app.web is not None:
            await app.web.close()
        await drain(app)
        if scheduler.running:
            scheduler.shutdown(wait=False)
        event("stop")


async def drain(app: App) -> None:
    """Give polls in flight a moment to finish; cancelled ones leave no half-written state
    because each poll writes in one transaction at its end."""
    app.stopping = True
    app.polling.stop()
    tasks = list(app.polling.in_flight.values())
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE / 2)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    # a send in progress is recorded before we close; one that hangs is sent again (same
    # digest id) at the next start
    try:
        await asyncio.wait_for(app.dispatcher.lock.acquire(), SHUTDOWN_GRACE * 3 / 8)
    except TimeoutError:
        event("stop-during-send", level=logging.WARNING)
    for background in list(app.background):
        background.cancel()
    await asyncio.gather(*app.background, return_exceptions=True)


def install_signal_handlers(app: App, stop: asyncio.Event) -> None:
    """SIGTERM and SIGINT stop the daemon; SIGHUP reloads its configuration file."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: app.spawn(app.reload_from_file()))
