"""The requests a subscriber sends a hub (WebSub §5.1): subscribe, with the lease asked and the
secret deliveries are signed with, or unsubscribe. The hub answers 202 and then verifies the
request by calling the callback (monitor.push.callback)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from yarl import URL

from monitor.core.errors import FetchError, HTTPStatusError
from monitor.net.guard import is_refused
from monitor.net.http import HttpClient
from monitor.store.push import Subscription

ACCEPTED = frozenset({202, 204})  # 202 as the hub verifies later; 204 from hubs that did


def request_form(sub: Subscription, callback_url: str, lease: timedelta) -> dict[str, str]:
    """The form asking ``sub``'s hub to start (it is wanted) or to stop delivering."""
    form = {"hub.callback": callback_url, "hub.topic": sub.topic}
    if not sub.wanted:
        return form | {"hub.mode": "unsubscribe"}
    return form | {
        "hub.mode": "subscribe",
        "hub.lease_seconds": str(int(lease.total_seconds())),
        "hub.secret": sub.secret,
    }


def secure(hub: str) -> str:
    """Where to ask ``hub``: over https when it is given over http on a public host, as the
    request carries the subscription's secret (WebSub §5.1: only over https); a hub on a
    private address (a company's, a test's) is asked as given."""
    url = URL(hub)
    if url.scheme != "http":
        return hub
    try:
        private = is_refused(ipaddress.ip_address(url.host or ""))
    except ValueError:  # a name: public as far as we know
        private = False
    return hub if private else str(url.with_scheme("https"))


async def ask(http: HttpClient, sub: Subscription, callback_url: str, lease: timedelta) -> None:
    """Send the request; FetchError (HTTPStatusError when the hub refuses it) if not accepted."""
    form = request_form(sub, callback_url, lease)
    try:
        address = secure(sub.hub)
    except ValueError:  # (a feed's hub link that urllib read and yarl refuses: a bad port)
        raise FetchError(f"the hub's address cannot be used: {sub.hub[:100]}") from None
    status, answer = await http.post_form(address, form)
    if status not in ACCEPTED:  # (a 200 is a page, not a hub: it would never verify)
        mode = "subscription" if sub.wanted else "unsubscription"
        detail = f": {answer}" if answer.strip() else ""
        raise HTTPStatusError(status, f"the hub refused the {mode} ({status}){detail}")
