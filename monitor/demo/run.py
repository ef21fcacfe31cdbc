"""``monitor demo``: the real daemon on a made-up news site, offline. The site (monitor.demo.site)
serves three feeds on loopback and publishes a headline every few seconds; the daemon polls them
with the example rules, on a store in a temporary folder, and its console subscriber prints each
alert with the terms that matched. Ctrl-C (or --duration) stops both and removes the folder."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import TextIO

from monitor.config.load import load_config
from monitor.config.model import Config
from monitor.core.logs import setup
from monitor.daemon.app import App
from monitor.daemon.forever import run_forever
from monitor.demo.site import NewsSite

CONFIG = "monitor.yaml"
SITE = "http://demo.invalid"  # in the bundled configuration: the site's address goes there
STORE = "sqlite:///demo.db"  # and the store in the demo's folder there


def write_config(folder: Path, site: str) -> Path:
    """The bundled configuration, pointed at the site and at a store in ``folder``."""
    text = resources.files(__package__).joinpath(CONFIG).read_text(encoding="utf-8")
    text = text.replace(SITE, site).replace(STORE, f"sqlite:///{folder / 'monitor.db'}")
    path = folder / CONFIG
    path.write_text(text, encoding="utf-8")
    return path


def demo_config(path: Path, every: float) -> Config:
    """The configuration at ``path``, its sources polled every ``every`` seconds (the site is
    ours and on loopback: the 10 s minimum of a configuration protects other people's)."""
    config = load_config(path)
    interval = timedelta(seconds=every)
    return config.model_copy(
        update={"defaults": config.defaults.model_copy(update={"interval": interval})}
    )


async def _publish(site: NewsSite, every: float, out: TextIO, stop: asyncio.Event) -> None:
    while True:
        await asyncio.sleep(every)
        post = site.publish()
        if not _say(out, f"demo: new on {post.headline.feed}: {post.headline.title}"):
            stop.set()
            return


def _say(out: TextIO, line: str) -> bool:
    """Print ``line``; False when no one reads any more (``monitor demo | head``): the rest,
    the console subscriber's alerts included, then goes nowhere, not into a traceback."""
    try:
        out.write(line + "\n")
        out.flush()
    except OSError:
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return False
    return True


def _remove(folder: Path) -> str:
    shutil.rmtree(folder, ignore_errors=True)
    return "still there" if folder.exists() else "removed"


async def run_demo(every: float, duration: float | None, out: TextIO | None = None) -> int:
    """Run until SIGINT or SIGTERM, or for ``duration`` seconds once started; 0 either way."""
    out = out or sys.stdout
    setup("WARNING")  # what goes wrong, not every poll
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    site = NewsSite()
    folder = Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    publishing: asyncio.Task[None] | None = None
    try:
        await site.start()
        config = demo_config(write_config(folder, site.url), every)
        async with App(config, stdout=out) as app:
            if not _say(
                out,
                f"demo: serving {len(site.outlets)} feeds on {site.url}, a new item every "
                f"{every:g} s; configuration and store in {folder} (removed at the end); "
                "Ctrl-C to stop",
            ):
                stop.set()
            publishing = asyncio.create_task(_publish(site, every, out, stop))
            if duration is not None:
                loop.call_later(duration, stop.set)
            await run_forever(app, stop)
    finally:
        if publishing is not None:
            publishing.cancel()
        await site.close()
        removed = _remove(folder)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    _say(out, f"demo: stopped; {folder} {removed}")
    return 0
