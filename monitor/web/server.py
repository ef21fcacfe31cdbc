"""The daemon's HTTP server, an aiohttp app on ``http.listen``: one-click unsubscribe
(RFC 8058), the operations endpoints, the WebSub callbacks (monitor.push.callback) and, when
``http.app`` is configured, the analysts' web app (monitor.web.pages) and the rules' Atom feeds
(monitor.web.feeds); with ``http.signup``, a subscriber's preferences page
(monitor.web.preferences).

- ``GET /healthz``: 200 while the process runs and its scheduler ticks, 503 otherwise;
- ``GET /readyz``: 200 when the store answers and a configuration is loaded, 503 otherwise;
- ``GET /metrics``: Prometheus metrics (:mod:`monitor.core.metrics`).

- ``GET /unsubscribe/{token}`` only shows a page with a button: mail scanners and link
  previews fetch URLs, so a GET must change nothing.
- ``POST /unsubscribe/{token}`` with ``List-Unsubscribe=One-Click`` (what mail clients send, and
  what the page's form sends) unsubscribes the subscriber the token names, if the token was
  sent to the address it has now (monitor.web.unsubscribe).
- A forged token, or one sent to an address the subscriber no longer has, gets 400, an expired
  one 410; anything else 404.

It speaks plain HTTP: HTTPS is the job of the reverse proxy at ``http.base_url``.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from monitor.core.errors import MonitorError, StoreError
from monitor.core.logs import event
from monitor.core.metrics import CONTENT_TYPE as METRICS_TYPE
from monitor.core.redact import shown
from monitor.push.callback import PushRoutes
from monitor.store.standing import Unsubscription
from monitor.web.unsubscribe import TokenClaim, TokenError, check_token

if TYPE_CHECKING:  # (the app's parts, argon2 and Jinja2, load only when http.app is set)
    from monitor.web.feeds import FeedRoutes
    from monitor.web.pages import AppRoutes
    from monitor.web.preferences import PreferencesRoutes
    from monitor.web.signup import SignupRoutes

MAX_BODY = 4096  # a one-click POST is a few bytes
APP_BODY = 256 * 1024
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}

# a genuine token's claim -> whether it unsubscribed (the address it was sent to is checked)
Unsubscribe = Callable[[TokenClaim], Awaitable[Unsubscription]]

_ARABIC = 'dir="rtl" lang="ar"'  # the pages say each thing in French, English and Arabic


class Operations(Protocol):
    """What the operations endpoints ask the daemon."""

    def healthy(self) -> str | None: ...  # None, or why not

    async def ready(self) -> str | None: ...  # None, or why not

    async def metrics_text(self) -> bytes: ...


def _page(status: int, title: str, body: str) -> web.Response:
    text = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(status=status, text=text, content_type="text/html", headers=_HEADERS)


def _other_address() -> web.Response:
    event("unsubscribe-refused", reason="address changed", status=400)
    body = "<p>Ce lien a été envoyé à une autre adresse : il ne change rien.</p>"
    body += "<p>This link was sent to another address: it changes nothing.</p>"
    body += f"<p {_ARABIC}>أُرسل هذا الرابط إلى عنوان آخر: لا يغيّر شيئًا.</p>"
    return _page(400, "Lien invalide / Invalid link", body)


class WebServer:
    def __init__(
        self,
        key: bytes,
        unsubscribe: Unsubscribe,
        clock: Callable[[], datetime],
        host: str,
        port: int,
        operations: Operations | None = None,
        push: PushRoutes | None = None,  # WebSub callbacks, when push is on
        feeds: FeedRoutes | None = None,  # the rules' Atom feeds (monitor.web.feeds)
        pages: AppRoutes | None = None,  # the analysts' web app, when http.app is configured
        binds: Callable[[TokenClaim], Awaitable[bool]] | None = None,  # link to this address?
        preferences: PreferencesRoutes | None = None,  # the subscribers' page, with http.signup
        signup: SignupRoutes | None = None,  # the subscribers' pages, when http.signup is set
    ) -> None:
        self.key, self.unsubscribe, self.clock = key, unsubscribe, clock
        self.binds = binds
        self.host, self.port = host, port
        self.operations = operations
        # a one-click POST is a few bytes; a login form or (later) a pasted rule, a few KB
        paged = pages or signup
        forms = paged is None and preferences is None
        self.app = web.Application(client_max_size=MAX_BODY if forms else APP_BODY)
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/readyz", self._readyz)
        self.app.router.add_get("/metrics", self._metrics)
        self.app.router.add_get("/unsubscribe/{token}", self._confirm)
        self.app.router.add_post("/unsubscribe/{token}", self._unsubscribe)
        if push is not None:
            push.add_to(self.app.router)
        if feeds is not None:
            feeds.add_to(self.app.router)
        if pages is not None:
            pages.add_to(self.app.router)
        if signup is not None:
            signup.add_to(self.app.router)
        if paged is not None:  # the pages' style sheet, once for every group of pages
            self.app.router.add_get("/static/{name}", paged.renderer.static)
        if preferences is not None:  # (with http.signup, as the sign-up pages: their style sheet)
            preferences.add_to(self.app.router)
        self.runner: web.AppRunner | None = None
        self.listening = asyncio.Event()  # set once bound: ``port`` is then the real one

    async def start(self) -> int:
        """Listen; returns the bound port (``listen: host:0`` picks a free one)."""
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self.runner.cleanup()
            self.runner = None
            self.listening.clear()
            raise MonitorError(f"http: cannot listen on {self.host}:{self.port}: {exc}") from exc
        sockets = getattr(site._server, "sockets", None) or []  # an asyncio.Server
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self.listening.set()
        event("http-listen", host=self.host, port=self.port)
        return self.port

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
            self.listening.clear()

    @staticmethod
    def _state(problem: str | None) -> web.Response:
        status = 200 if problem is None else 503
        return web.Response(
            status=status, text=shown(problem or "ok"), headers={"Cache-Control": "no-store"}
        )

    async def _healthz(self, request: web.Request) -> web.Response:
        return self._state("not running" if self.operations is None else self.operations.healthy())

    async def _readyz(self, request: web.Request) -> web.Response:
        if self.operations is None:
            return self._state("not running")
        return self._state(await self.operations.ready())

    async def _metrics(self, request: web.Request) -> web.Response:
        if self.operations is None:
            return web.Response(status=404)
        try:
            body = await self.operations.metrics_text()
        except StoreError as exc:
            return self._state(f"store unreachable: {exc}")
        return web.Response(body=body, headers={"Content-Type": METRICS_TYPE})

    def _claim(self, request: web.Request) -> TokenClaim | web.Response:
        try:
            return check_token(self.key, request.match_info["token"], self.clock())
        except TokenError as exc:
            event("unsubscribe-refused", reason=str(exc), status=exc.status)
            title = "Lien expiré / Link expired" if exc.status == 410 else "Lien invalide"
            body = "<p>Ce lien de désabonnement n'est pas valable.</p>"
            body += "<p>This unsubscribe link is not valid.</p>"
            body += f"<p {_ARABIC}>رابط إلغاء الاشتراك هذا غير صالح.</p>"
            return _page(exc.status, title, body)

    async def _confirm(self, request: web.Request) -> web.Response:
        claim = self._claim(request)
        if isinstance(claim, web.Response):
            return claim
        if self.binds is not None and not await self.binds(claim):
            return _other_address()
        name = html.escape(claim.subscriber)
        body = (
            f"<p>Se désabonner des résumés envoyés à <b>{name}</b> ?</p>"
            f"<p>Unsubscribe <b>{name}</b> from these digests?</p>"
            f'<p {_ARABIC}>إلغاء اشتراك <b dir="auto">{name}</b> في هذه الملخصات؟</p>'
            '<form method="post"><input type="hidden" name="List-Unsubscribe" '
            'value="One-Click"><button type="submit">Se désabonner / Unsubscribe / '
            f"<span {_ARABIC}>إلغاء الاشتراك</span></button></form>"
        )
        return _page(200, "Désabonnement / Unsubscribe", body)

    async def _unsubscribe(self, request: web.Request) -> web.Response:
        claim = self._claim(request)
        if isinstance(claim, web.Response):
            return claim
        try:
            form = await request.post()
        except ValueError:
            form = None  # an undecodable body is no one-click request
        if form is None or form.get("List-Unsubscribe") != "One-Click":
            return _page(400, "Requête invalide / Bad request", "<p>List-Unsubscribe=One-Click</p>")
        done = await self.unsubscribe(claim)
        if done is Unsubscription.OTHER_ADDRESS:
            return _other_address()
        if done is Unsubscription.UNKNOWN:
            body = "<p>Cet abonnement n'existe plus.</p><p>This subscription no longer exists.</p>"
            body += f"<p {_ARABIC}>هذا الاشتراك لم يعد موجودًا.</p>"
            return _page(404, "Inconnu / Unknown", body)
        event("unsubscribed", subscriber=claim.subscriber)
        body = "<p>Vous ne recevrez plus ces résumés.</p>"
        body += "<p>You will not receive these digests again.</p>"
        body += f"<p {_ARABIC}>لن تصلك هذه الملخصات بعد الآن.</p>"
        return _page(200, "Désabonné / Unsubscribed", body)
