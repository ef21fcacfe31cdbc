"""Where a feed says it is pushed (WebSub): the one rule every feed format's parse uses.

A leaf module (it imports no parser), so that monitor.sources.feed and monitor.sources.jsonfeed,
which imports it, can both use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urljoin

from monitor.core.models import HubLink
from monitor.net.weblinks import is_web


def _first_web(hrefs: Iterable[str], base: str) -> str | None:
    """The first of ``hrefs`` that is an http(s) URL once resolved against ``base``."""
    for href in map(str.strip, hrefs):
        if not href:
            continue  # (an empty href would resolve to ``base`` itself)
        try:
            url = urljoin(base, href)
            if is_web(url):
                return url
        except ValueError:  # an unreadable address (a broken IPv6 host): not a hub
            continue
    return None


def hub_link(hubs: Iterable[str], selves: Iterable[str], url: str) -> HubLink | None:
    """A feed's WebSub hub and topic, from the hrefs of its hub and self links in document
    order, as fetched from ``url``: the first hub that is an http(s) URL (relative ones
    resolved against ``url``), and the first such self link, else ``url`` itself when it is
    http(s) (a local file cannot be subscribed to); None without a hub or a topic."""
    hub = _first_web(hubs, url)
    if hub is None:
        return None
    topic = _first_web(selves, url) or (url if is_web(url) else None)
    return HubLink(hub, topic) if topic is not None else None
