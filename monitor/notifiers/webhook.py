"""The webhook notifier: POSTs the digest as JSON, signed per Standard Webhooks v1 (§3.5).

- The body is serialised once; the signature covers exactly the bytes sent.
- ``webhook-id`` is the digest id, the same on every retry, so receivers can deduplicate;
  ``webhook-timestamp`` and the signature are fresh on each attempt.
- Redirects are not followed (a 3xx is a failure, retried like any other non-2xx): following one
  would let an endpoint send our signed payload elsewhere.
- Every non-2xx answer and every timeout or connection error is transient (§3.5: "anything else
  or a timeout is retried"; a receiver answering 404 or 401 for a moment during a deploy must not
  lose a digest), so it is retried with backoff until the outbox's attempts run out. 410 Gone is
  ReceiverGone (the dispatcher holds that subscriber's digests); a refused address is permanent.
  The timeout is ``NotifierContext.timeout`` (30 s by default) for the whole request, so a
  receiver that never answers costs at most that, and the others are served meanwhile.
- Messages name the host only, and never chain an exception that carries the URL: webhook URLs
  often hold a token in their userinfo, path or query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import traceback
from datetime import UTC, datetime

import aiohttp
from yarl import URL

from monitor.config import SubscriberConfig, webhook_key
from monitor.errors import (
    AddressRefused,
    ConfigError,
    FetchError,
    PermanentNotifyError,
    ReceiverGone,
    TransientNotifyError,
)
from monitor.models import Digest, DigestItem
from monitor.notifiers.base import NotifierContext

GONE = 410


def iso_utc(moment: datetime) -> str:
    """``2026-11-26T08:00:00Z``: UTC, whole seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def item_payload(item: DigestItem) -> dict[str, object]:
    return {
        "id": item.id,
        "title": item.title,
        "link": item.link,
        "source": item.source,
        "published": iso_utc(item.published) if item.published is not None else None,
        "summary": item.summary,
        "rules": list(item.rules),
        "terms": {rule: list(terms) for rule, terms in item.terms.items()},
    }


def payload(digest: Digest) -> dict[str, object]:
    return {
        "type": "digest",
        "id": digest.id,
        "subscriber": digest.subscriber,
        "created": iso_utc(digest.created),
        "items": [item_payload(item) for item in digest.items],
    }


def encode_body(digest: Digest) -> bytes:
    return json.dumps(payload(digest), ensure_ascii=False, separators=(",", ":")).encode()


def signing_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after ``whsec_``."""
    try:
        return webhook_key(secret)
    except ValueError as exc:  # the config validator refuses these first
        raise ConfigError([f"webhook secret: {exc}"]) from None


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def refused(exc: BaseException) -> bool:
    """Whether the address guard is behind ``exc``, however aiohttp wrapped it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, AddressRefused):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class WebhookNotifier:
    def __init__(self, subscriber: SubscriberConfig, context: NotifierContext) -> None:
        if subscriber.webhook is None:
            raise ConfigError([f"subscribers.{subscriber.name}: a webhook subscriber needs a URL"])
        self.subscriber = subscriber.name
        self.url = subscriber.webhook
        url = URL(subscriber.webhook)
        self.host = url.host or "?"
        # userinfo, path and query may each carry a token (Slack-style paths, ?token=)
        self.secret_parts = {
            subscriber.webhook,
            url.raw_user or "",
            url.raw_password or "",
            url.user or "",
            url.password or "",
            *(segment for segment in url.path.split("/") if len(segment) >= 8),
            *(value for value in url.query.values() if len(value) >= 4),
            url.raw_query_string,
        } - {""}
        self.session = context.session
        self.timeout = aiohttp.ClientTimeout(total=context.timeout)
        secret = subscriber.secret.get_secret_value() if subscriber.secret is not None else None
        self.key = signing_key(secret) if secret is not None else None

    def _reveals_url(self, exc: BaseException) -> bool:
        """Whether ``exc`` or its chain shows a part of the URL that may be a secret."""
        shown = "".join(traceback.format_exception(exc))
        return any(part and part in shown for part in self.secret_parts)

    def headers(self, digest: Digest, body: bytes, timestamp: int) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "webhook-id": digest.id,
            "webhook-timestamp": str(timestamp),
        }
        if self.key is not None:
            headers["webhook-signature"] = sign(self.key, digest.id, timestamp, body)
        return headers

    async def send(self, digest: Digest) -> None:
        body = encode_body(digest)
        headers = self.headers(digest, body, int(time.time()))
        where = f"webhook {self.subscriber} ({self.host})"
        try:
            async with self.session.post(
                self.url, data=body, headers=headers, allow_redirects=False, timeout=self.timeout
            ) as response:
                status = response.status
        except Exception as exc:
            error: TransientNotifyError | PermanentNotifyError
            if refused(exc):
                error = PermanentNotifyError(f"{where}: address refused")
            elif isinstance(exc, TimeoutError):
                error = TransientNotifyError(f"{where}: timed out")
            elif isinstance(exc, aiohttp.ClientError | OSError | FetchError):
                error = TransientNotifyError(f"{where}: {type(exc).__name__}")
            else:
                raise
            raise error from (None if self._reveals_url(exc) else exc)
        if 200 <= status < 300:
            return
        if status == GONE:
            raise ReceiverGone(f"{where}: HTTP 410 Gone: the receiver asks to stop")
        raise TransientNotifyError(f"{where}: HTTP {status}")
