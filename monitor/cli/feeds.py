"""``monitor feeds``: each rule's Atom feed URL, to paste into a feed reader; ``monitor feeds
rotate-key``: a new feeds secret, when a URL has leaked (every URL given so far stops working,
at once, on every running replica: the daemon reads the secret at each request)."""

from __future__ import annotations

import sys

from monitor.config.model import Config
from monitor.core.redact import printable
from monitor.store import open_existing
from monitor.store.feeds import feed_key, rotate_feed_key
from monitor.web.feeds import feed_path


def feed_urls(config: Config, secret: bytes) -> list[tuple[str, str]]:
    """(rule, URL) for each rule; a path alone without ``http.base_url``."""
    base = config.http.base_url if config.http is not None else None
    return [(rule.name, f"{base or ''}{feed_path(rule.name, secret)}") for rule in config.rules]


async def feeds_command(config: Config, rotate: bool) -> int:
    # (a store never made has no alerts and no feed to give: NoStore, exit 3)
    engine = await open_existing(config.storage)
    try:
        secret = await (rotate_feed_key(engine) if rotate else feed_key(engine))
    finally:
        await engine.dispose()
    if rotate:
        print("feeds key replaced: every feed URL given before no longer works")
        print("`monitor feeds` prints the new ones")
        return 0
    if config.http is None or config.http.app is None:
        print("note: no http.app section, so the daemon serves no feed", file=sys.stderr)
    elif config.http.base_url is None:
        print(
            "note: http.base_url is not set: put the server's address before each path",
            file=sys.stderr,
        )
    urls = feed_urls(config, secret)
    width = max((len(printable(name)) for name, _ in urls), default=0)
    for name, url in urls:
        print(f"{printable(name).ljust(width)}  {url}")
    return 0
