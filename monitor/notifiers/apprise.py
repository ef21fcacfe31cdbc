"""The Apprise notifier: each digest to any service Apprise knows, by its Apprise URL.

Apprise is an optional dependency: ``pip install 'monitor[apprise]'``.

- The URL is read once, when the notifier is built (startup, reload), or by :func:`load_service`
  (no session needed, for ``monitor check``): an unknown scheme or an unusable URL is a
  ConfigError, and so is a value holding several URLs (a partly accepted send would be sent
  again to every one on retry: use one subscriber per URL). Neither does any network I/O.
- Title is the digest's subject. The body is the HTML rendering when the service renders HTML
  by default (e-mail), the plain text otherwise; Apprise converts it when the URL asks for
  another ``format=``. Services with short limits may need ``overflow=split`` in the URL.
- ``send`` awaits ``Apprise.async_notify``: Apprise runs its (blocking) plugins in its own
  worker threads, so the event loop is never blocked. Each send is bounded by
  ``NotifierContext.timeout``; a plugin already running in a thread finishes (or times out on
  its own socket timeouts) in the background, after the send was reported transient.
- Apprise reports failure as False, without saying whether retrying can help: every failure is
  transient, so the outbox retries with backoff and dead-letters after its attempts.
- network.allow: Apprise connects with its own clients (requests, smtplib), not the guarded
  session. Before each send, the server the URL names (``smtp=`` or the host for e-mail, the
  host of self-hosted services such as ``json://``, ``form://``, ``ntfy://HOST``, ``gotify://``)
  is resolved and every address is judged like the session's connector judges them (a refused
  one is permanent). Redirects are never followed. Limits: the plugin resolves the name again
  (a DNS answer that changes in between is not seen), requests uses the proxies named in the
  environment (``HTTPS_PROXY``…), and cloud services at fixed endpoints (``tgram://``,
  ``discord://``…) are not checked. A notifier built with an unguarded session checks nothing.
- Apprise URLs hold tokens (in the host, the path, the userinfo or the query): errors and logs
  name the scheme only. Apprise's logger does not propagate, never logs below WARNING, and
  drops any record showing a piece of a configured URL; a failure's reason is Apprise's last
  captured message about it, when it shows no piece of the URL. urllib3 (under requests) is
  held at WARNING too: its debug lines show request paths.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import re
import socket
import traceback
import warnings
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import (
    AddressRefused,
    ConfigError,
    PermanentNotifyError,
    TransientNotifyError,
)
from monitor.core.models import Digest
from monitor.digest.render import clean_line
from monitor.net.guard import GuardedConnector, Network, check_address
from monitor.notifiers.base import NotifierContext

if TYPE_CHECKING:
    import apprise

INSTALL_HINT = "pip install 'monitor[apprise]'"
REASON_MAX = 200
PIECE_MIN = 6  # a shorter piece of a URL is not a token, and hiding it would hide every line
USERINFO_MIN = 3  # a user name or password is hidden from this length
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,31})://")
_DELIMITERS = re.compile(r"[\s:/?&=@#,;+!$'()*\[\]]+")
# the template-token names of a host that is the server dialled (not a domain, id or topic)
_SERVER_HOSTS = frozenset({"Hostname", "Host", "API Hostname"})
_LOGGERS_QUIETED = ("apprise", "urllib3")  # urllib3 logs request lines (paths hold tokens)


class HideSecrets(logging.Filter):
    """Drops every record of Apprise's logger that shows a part of a configured Apprise URL,
    before any handler sees it (Apprise's own capture, or one added by a test framework)."""

    def __init__(self) -> None:
        super().__init__()
        # replaced, never changed in place: Apprise's threads read it while a reload adds
        self.secrets: frozenset[str] = frozenset()

    def hide(self, secrets: AbstractSet[str]) -> None:
        self.secrets = self.secrets | secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        return not reveals(text, self.secrets)


HIDE_SECRETS = HideSecrets()


def load_apprise(where: str) -> ModuleType:
    """The apprise package, its logging made safe; ConfigError when it is not installed."""
    try:
        module = importlib.import_module("apprise")
    except ImportError:
        raise ConfigError([f"{where}: needs the apprise package: {INSTALL_HINT}"]) from None
    if not hasattr(module, "AppriseResult"):  # what 2.0 brought: per-call outcomes
        raise ConfigError([f"{where}: needs apprise 2.0 or later: {INSTALL_HINT}"])
    for name in _LOGGERS_QUIETED:
        library = logging.getLogger(name)
        # never below WARNING: debug records carry URLs; a level set higher is kept
        library.setLevel(max(library.getEffectiveLevel(), logging.WARNING))
    quiet = logging.getLogger("apprise")
    # its messages reach no handler but its own capture (a failure's reason is read from it)
    quiet.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in quiet.handlers):
        quiet.addHandler(logging.NullHandler())  # else logging's last resort prints them
    if HIDE_SECRETS not in quiet.filters:
        quiet.addFilter(HIDE_SECRETS)
    return module


@contextmanager
def plugin_imports() -> Iterator[None]:
    """Apprise imports a service's plugin on first use; one imports the deprecated ``imghdr``
    (Python 3.11). That warning is Apprise's to fix, so it is kept out of our warnings."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"apprise(\.|$)")
        yield


def scheme_of(url: str) -> str:
    """The scheme, the one part of an Apprise URL shown in messages ("?" when unreadable)."""
    found = _SCHEME.match(url.strip())
    return found[1].lower() if found else "?"


def secret_parts(url: str) -> frozenset[str]:
    """The pieces of ``url`` that may be a token, raw and decoded: every piece of at least
    ``PIECE_MIN`` characters (shorter ones would hide too much), and the userinfo's."""
    url = url.strip()
    scheme = scheme_of(url)
    rest = url[len(scheme) + 3 :] if scheme != "?" else url
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo = authority.rpartition("@")[0]
    pieces: set[str] = set()
    for text in (rest, unquote(rest)):
        pieces.update(piece for piece in _DELIMITERS.split(text) if len(piece) >= PIECE_MIN)
    for text in (userinfo, unquote(userinfo)):
        pieces.update(piece for piece in text.split(":") if len(piece) >= USERINFO_MIN)
    return frozenset({url, rest, *pieces} - {""})


def reveals(text: str, secrets: AbstractSet[str]) -> bool:
    return any(secret in text for secret in secrets)


def native_format(service: Any) -> str:
    """The format the service renders unless the URL says ``format=`` ("html", "text"…)."""
    return str(service.resolve_format(None).value)


def server_of(service: Any) -> str | None:
    """The host the service will connect to, when the URL names it (see the docstring)."""
    smtp_host = getattr(service, "smtp_host", None)
    if isinstance(smtp_host, str) and smtp_host:
        return smtp_host
    token = getattr(service, "template_tokens", {}).get("host") or {}
    name = token.get("name")
    if str(getattr(name, "text", name)) not in _SERVER_HOSTS:
        return None
    host = getattr(service, "host", None)
    return host if isinstance(host, str) and host else None


def allow_of(context: NotifierContext) -> tuple[Network, ...] | None:
    """The networks the shared session's guard allows; None when the session has no guard."""
    connector = context.session.connector
    return tuple(connector._allow) if isinstance(connector, GuardedConnector) else None


def addresses(infos: Sequence[tuple[Any, ...]]) -> list[str]:
    """The distinct addresses of a getaddrinfo answer."""
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def load_service(subscriber: SubscriberConfig) -> apprise.Apprise:
    """An Apprise object holding the subscriber's one service; ConfigError when the URL cannot
    be used. No I/O: ``monitor check`` may call it for each apprise subscriber."""
    key = f"subscribers.{subscriber.name}.apprise"
    if subscriber.apprise is None:
        raise ConfigError([f"{key}: an apprise subscriber needs a URL"])
    url = subscriber.apprise.get_secret_value()
    scheme = scheme_of(url)
    module = load_apprise(key)
    HIDE_SECRETS.hide(secret_parts(url))  # before Apprise first logs about the URL
    apobj: apprise.Apprise = module.Apprise()
    with plugin_imports():
        added = apobj.add(url)
    if not added:
        raise ConfigError([f"{key}: not a URL Apprise supports, or incomplete ({scheme}://)"])
    if len(apobj) != 1:
        raise ConfigError([f"{key}: one URL per subscriber (found {len(apobj)})"])
    return apobj


class AppriseNotifier:
    def __init__(self, subscriber: SubscriberConfig, context: NotifierContext) -> None:
        self.apobj = load_service(subscriber)
        url = subscriber.apprise.get_secret_value() if subscriber.apprise is not None else ""
        self.where = f"apprise {subscriber.name} ({scheme_of(url)})"
        self.secrets = secret_parts(url)
        self.service: Any = self.apobj[0]
        self.service.redirects = False  # a redirect could lead past the address guard
        self.html = native_format(self.service) == "html"
        self.server = server_of(self.service)
        self.allow = allow_of(context)
        self.renderer = context.renderer
        self.timeout = context.timeout

    async def send(self, digest: Digest) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                await self._check_server()
                outcome = await self._notify(digest)
        except TimeoutError:
            raise TransientNotifyError(f"{self.where}: timed out") from None
        with outcome:  # releases the log records Apprise captured for the call
            if not outcome:
                raise TransientNotifyError(f"{self.where}: not delivered{self._reason(outcome)}")
            return f"accepted{self._reason(outcome)}"

    async def _notify(self, digest: Digest) -> apprise.AppriseResult:
        """Apprise's outcome: true when the service accepted the digest."""
        title = self.renderer.subject(digest)
        body = self.renderer.html(digest) if self.html else self.renderer.text(digest)
        try:
            return await self.apobj.async_notify(
                body=body, title=title, body_format="html" if self.html else "text"
            )
        except Exception as exc:  # a plugin bug or an unexpected library error: retried
            error = TransientNotifyError(f"{self.where}: {type(exc).__name__}")
            shown = "".join(traceback.format_exception(exc))
            raise error from (None if reveals(shown, self.secrets) else exc)

    def _reason(self, outcome: apprise.AppriseResult) -> str:
        """Apprise's last captured message about the failure, if it shows nothing of the URL."""
        safe = [
            line
            for line in (clean_line(entry.message) for entry in outcome.logs())
            if line and not reveals(line, self.secrets)
        ]
        if not safe:
            return ""
        reason = safe[-1] if len(safe[-1]) <= REASON_MAX else safe[-1][: REASON_MAX - 1] + "…"
        return f": {reason}"

    async def _check_server(self) -> None:
        """Refuse, before Apprise connects, a server that network.allow does not allow."""
        if self.server is None or self.allow is None:
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                self.server, None, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            raise TransientNotifyError(f"{self.where}: cannot resolve the server") from None
        try:
            for address in addresses(infos):
                check_address("server", address, self.allow)
        except AddressRefused:
            raise PermanentNotifyError(f"{self.where}: address refused") from None
