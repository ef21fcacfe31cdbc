"""The webhook notifier: POSTs each digest in the subscriber's ``format`` (§3.5 and presets).

- ``format`` picks the body builder in :data:`monitor.notifiers.formats.FORMATS`: ``generic`` is
  the §3.5 JSON document, signed per Standard Webhooks v1; the chat presets (Slack, Discord,
  Teams, Mattermost, ntfy, Telegram) write what each service accepts, within its limits, in one
  or several messages.
- A digest that takes several messages is sent in order, and is delivered only once every one is
  accepted (2xx). None of these services takes an idempotency key, so this notifier remembers,
  per digest, the messages already accepted: a retry sends only the rest, while the process
  lives. After a restart or a configuration reload, a retry sends the whole sequence again and
  the channel may show its first messages twice.
- A 429 answer with a ``Retry-After`` of at most 10 s is waited for and the message sent again
  (chat services limit bursts: Discord allows about 5 requests in 2 s to one webhook), at most
  60 s of such waits a send; any other 429 is transient like the rest.
- Generic only: the body is serialised once and the signature covers exactly the bytes sent;
  ``webhook-id`` is the digest id, the same on every retry, so receivers can deduplicate;
  ``webhook-timestamp`` and the signature are fresh on each attempt. The presets send no
  Standard Webhooks headers: the services ignore them, and their messages are not the §3.5
  document a receiver would verify (a ``secret`` set on a preset subscriber is not used).
- Redirects are not followed (a 3xx is a failure, retried like any other non-2xx): following one
  would let an endpoint send our signed payload elsewhere.
- The start of an answer's body (one line, at most ANSWER_SHOWN characters) is said beside its
  status, in errors and to ``monitor notify --test``: chat services explain a refusal there
  (Slack's ``invalid_token``).
- Every non-2xx answer and every timeout or connection error is transient (§3.5: "anything else
  or a timeout is retried"; a receiver answering 404 or 401 for a moment during a deploy must not
  lose a digest), so it is retried with backoff until the outbox's attempts run out. 410 Gone is
  ReceiverGone (the dispatcher holds that subscriber's digests); a refused address is permanent.
  The timeout is ``NotifierContext.timeout`` (30 s by default) for each request, so a
  receiver that never answers costs at most that, and the others are served meanwhile.
- Messages name the host only, and never chain an exception that carries the URL: webhook URLs
  often hold a token in their userinfo, path or query.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import math
import re
import time
import traceback
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager

import aiohttp
from yarl import URL

from monitor.config.subscribers import SubscriberConfig, webhook_key
from monitor.core.errors import (
    AddressRefused,
    ConfigError,
    FetchError,
    PermanentNotifyError,
    ReceiverGone,
    TransientNotifyError,
)
from monitor.core.models import Digest
from monitor.digest.render import clean_line
from monitor.net.words import in_words
from monitor.notifiers.base import NotifierContext
from monitor.notifiers.formats import FORMATS, Request, Target

GONE = 410
TOO_MANY = 429
PAUSE_MAX = 10.0  # the longest Retry-After waited for inline, seconds
PAUSE_BUDGET = 60.0  # the most a send waits in all
REMEMBERED = 64  # digests whose accepted messages are remembered
ANSWER_READ = 512  # bytes of an answer's body read, for the start of what it says
ANSWER_SHOWN = 120  # characters of it shown (monitor notify --test, errors)
ANSWER_WAIT = 1.0  # seconds the body may take to start, after the status
_TAGS = re.compile(r"<[^<>]*>")


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


def retry_after(response: aiohttp.ClientResponse) -> float | None:
    """The ``Retry-After`` delay in seconds, when it is a number (a date is not waited for)."""
    try:
        delay = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return delay if math.isfinite(delay) and delay >= 0 else None


async def start_of(response: aiohttp.ClientResponse) -> bytes:
    """The first bytes of the answer's body, if they come within ANSWER_WAIT: never a reason to
    fail the attempt (a 2xx status is delivery, whatever the body does next)."""
    try:
        async with asyncio.timeout(ANSWER_WAIT):
            return await response.content.read(ANSWER_READ)
    except (TimeoutError, aiohttp.ClientError, OSError):
        return b""


def fingerprint(request: Request) -> str:
    return hashlib.sha256(request.url.encode() + b"\0" + request.body).hexdigest()


class WebhookNotifier:
    def __init__(self, subscriber: SubscriberConfig, context: NotifierContext) -> None:
        if subscriber.webhook is None:
            raise ConfigError([f"subscribers.{subscriber.name}: a webhook subscriber needs a URL"])
        self.subscriber = subscriber.name
        self.url = subscriber.webhook
        url = URL(subscriber.webhook)
        self.host = url.host or "?"
        self.port = url.port  # explicit or the scheme's
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
        self.http = context.http
        self.renderer = context.renderer
        self.timeout = aiohttp.ClientTimeout(total=context.timeout)
        secret = subscriber.secret.get_secret_value() if subscriber.secret is not None else None
        self.key = signing_key(secret) if secret is not None else None
        self.preset = FORMATS[subscriber.format]
        self.target = Target(url=subscriber.webhook, chat_id=subscriber.chat_id)
        problem = self.preset.check(self.target)
        if problem is not None:
            raise ConfigError([f"subscribers.{subscriber.name}: {problem}"])
        # digest id -> fingerprints of its messages already accepted (see the module docstring)
        self.accepted: OrderedDict[str, set[str]] = OrderedDict()

    def _reveals_url(self, exc: BaseException) -> bool:
        """Whether ``exc`` or its chain shows a part of the URL that may be a secret."""
        shown = "".join(traceback.format_exception(exc))
        return any(part and part in shown for part in self.secret_parts)

    def headers(self, digest: Digest, request: Request, timestamp: int) -> dict[str, str]:
        headers = dict(request.headers)
        if request.signed:
            headers["webhook-id"] = digest.id
            headers["webhook-timestamp"] = str(timestamp)
            if self.key is not None:
                headers["webhook-signature"] = sign(self.key, digest.id, timestamp, request.body)
        return headers

    def _progress(self, digest_id: str) -> set[str]:
        done = self.accepted.setdefault(digest_id, set())
        self.accepted.move_to_end(digest_id)
        while len(self.accepted) > REMEMBERED:
            self.accepted.popitem(last=False)
        return done

    async def send(self, digest: Digest) -> str:
        requests = self.preset.build(digest, self.renderer, self.target)
        done = self._progress(digest.id)
        budget = PAUSE_BUDGET
        answer = "nothing left to send"
        for number, request in enumerate(requests, 1):
            key = fingerprint(request)
            if key in done:
                continue
            part = f" (message {number}/{len(requests)})" if len(requests) > 1 else ""
            where = f"webhook {self.subscriber} ({self.host}){part}"
            budget, answer = await self._deliver(digest, request, where, budget)
            done.add(key)
        self.accepted.pop(digest.id, None)
        return answer + (f" (the last of {len(requests)} messages)" if len(requests) > 1 else "")

    async def _deliver(
        self, digest: Digest, request: Request, where: str, budget: float
    ) -> tuple[float, str]:
        """Send ``request`` until it is accepted, waiting out short 429s; returns what is left
        of the waiting ``budget``, and the answer (``HTTP 200: ok``)."""
        while True:
            status, delay, text = await self._post(digest, request, where)
            answer = f"HTTP {status}: {text}" if text else f"HTTP {status}"
            if 200 <= status < 300:
                return budget, answer
            if status == GONE:
                raise ReceiverGone(f"{where}: HTTP 410 Gone: the receiver asks to stop")
            if status == TOO_MANY and delay is not None and delay <= min(PAUSE_MAX, budget):
                budget -= delay
                await asyncio.sleep(delay)
                continue
            raise TransientNotifyError(f"{where}: {answer}")

    def _said(self, start: bytes) -> str:
        """The start of an answer's body, one printable line; "" if it shows a part of the URL
        (a receiver may echo its token back)."""
        # an error page's markup says nothing (a 502 page: "502 Bad Gateway nginx")
        text = clean_line(_TAGS.sub(" ", start.decode("utf-8", "replace")))
        if any(part in text for part in self.secret_parts):
            return ""
        return text if len(text) <= ANSWER_SHOWN else text[: ANSWER_SHOWN - 1] + "…"

    def _request(
        self, request: Request, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        """The request, through network.proxy when the daemon's client carries it."""
        http = self.http
        if http is not None:
            return http.send(request.method, request.url, request.body, headers, self.timeout)
        return self.session.request(
            request.method,
            request.url,
            data=request.body,
            headers=headers,
            allow_redirects=False,
            timeout=self.timeout,
        )

    async def _post(
        self, digest: Digest, request: Request, where: str
    ) -> tuple[int, float | None, str]:
        """The status of one attempt, its Retry-After delay, and the start of its body."""
        # the real clock, not the App's: the receiver checks this stamp against its own clock
        headers = self.headers(digest, request, int(time.time()))
        try:
            async with self._request(request, headers) as response:
                start = await start_of(response)
                return response.status, retry_after(response), self._said(start)
        except Exception as exc:
            error: TransientNotifyError | PermanentNotifyError
            if refused(exc):
                error = PermanentNotifyError(f"{where}: address refused")
            elif isinstance(exc, TimeoutError | aiohttp.ClientError | OSError | FetchError):
                said = in_words(exc, self.host, self.port, self.timeout.total) or (
                    str(exc) if isinstance(exc, FetchError) else type(exc).__name__
                )
                error = TransientNotifyError(f"{where}: {said}")
            else:
                raise
            raise error from (None if self._reveals_url(exc) else exc)
