"""The requests a subscriber sends a hub (WebSub §5.1): subscribe, with the lease asked and the
secret deliveries are signed with, or unsubscribe. The hub answers 202 and then verifies the
request by calling the callback (monitor.websub.callback)."""

from __future__ import annotations

from datetime import timedelta

from monitor.errors import HTTPStatusError
from monitor.http import HttpClient
from monitor.store.push import Subscription


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


async def ask(http: HttpClient, sub: Subscription, callback_url: str, lease: timedelta) -> None:
    """Send the request; FetchError (HTTPStatusError when the hub refuses it) if not accepted."""
    status, answer = await http.post_form(sub.hub, request_form(sub, callback_url, lease))
    if not 200 <= status < 300:  # 202 Accepted, as the hub verifies; some say 204
        mode = "subscription" if sub.wanted else "unsubscription"
        detail = f": {answer}" if answer.strip() else ""
        raise HTTPStatusError(status, f"the hub refused the {mode} ({status}){detail}")
