"""What every notifier kind provides, and the shared services it is built with.

A notifier delivers one Digest to one subscriber. ``send`` returns only once the receiver has
accepted the digest (SMTP 250 after DATA, HTTP 2xx); otherwise it raises
TransientNotifyError (retry later with backoff) or PermanentNotifyError (dead-letter now),
whose message says what went wrong in words (``connection refused by 127.0.0.1:9000``).
The outbox calls it again with the same Digest on a retry, so anything that identifies the
delivery (Message-ID, webhook-id) is derived from ``digest.id``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TextIO

import aiohttp

from monitor.config.sections import SmtpConfig
from monitor.core.clock import Clock, utcnow
from monitor.core.models import Digest
from monitor.digest.render import Renderer
from monitor.net.http import HttpClient
from monitor.notifiers.smtp_pool import SmtpPool

DEFAULT_WEBHOOK_TIMEOUT = 30.0


class Notifier(Protocol):
    async def send(self, digest: Digest) -> str | None:
        """Deliver ``digest``; return only when the receiver accepted it, with what it answered
        in a few words (``250 OK``, ``HTTP 204``: shown by ``monitor notify --test``)."""
        ...


@dataclass(frozen=True)
class NotifierContext:
    """Services shared by every notifier, built once by the composition root."""

    renderer: Renderer
    smtp: SmtpConfig | None
    session: aiohttp.ClientSession  # the project's guarded session (network.allow applies)
    stdout: TextIO
    timeout: float = DEFAULT_WEBHOOK_TIMEOUT  # webhook request deadline, seconds
    # (subscriber, its address, digest formed at) -> its one-click unsubscribe URL; None
    # without ``http:``
    unsubscribe_url: Callable[[str, str, datetime], str] | None = None
    # the same for its preferences page (issue 24); None without http.base_url and http.signup
    preferences_url: Callable[[str, str, datetime], str] | None = None
    # the SMTP connections every email subscriber shares (None: one connection per message)
    mailer: SmtpPool | None = None
    clock: Clock = utcnow  # the App's: an email's Date header
    # the daemon's client: webhooks go through network.proxy as feeds do (None: straight, on
    # ``session``, as tests that need no proxy build it)
    http: HttpClient | None = None
