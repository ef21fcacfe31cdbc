"""The sign-up pages (DESIGN §3.8, issue 24), on the daemon's server when ``http.signup`` is
configured, with or without the analysts' app:

- ``GET /subscribe``: the form (address, topics among ``http.signup.rules`` shown by their
  ``label`` and ``description``, schedule, language of the emails, a honeypot);
- ``POST /subscribe``: records the request (monitor.store.signups) and, when the per-address
  limits allow, sends one email: a confirmation link valid 48 h, or, to an address that
  already receives digests, a link to its preferences. The answer is the same whatever the
  address's state (no enumeration) and whether an email went;
- ``GET /subscribe/confirm/TOKEN`` shows a button (mail scanners fetch links: a GET changes
  nothing), ``POST`` makes the subscriber (monitor.store.subscribers.SubscriberBook.sign_up:
  twice, or on two replicas at once, one subscriber).

Each client address may post :data:`monitor.web.access.ATTEMPTS` sign-ups a minute (read from
``X-Forwarded-For`` only when the request comes from ``http.trusted_proxies``); this count is
each replica's own. Forms carry CSRF tokens bound to a nonce cookie (monitor.web.anonymous)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.schedule import DAYS
from monitor.config.sections import SignupConfig
from monitor.core.errors import StoreError
from monitor.core.logs import event
from monitor.delivery.subscribers import owner
from monitor.digest.i18n import LANGUAGES
from monitor.store.signups import PENDING, Requested, Signups
from monitor.store.standing import Standing
from monitor.store.subscribers import SIGNED_UP_MARK, SubscriberBook, normal_address
from monitor.web import language
from monitor.web.access import Throttle
from monitor.web.anonymous import AnonymousForms
from monitor.web.guard import posted_form
from monitor.web.preference_form import Topic, form_schedule
from monitor.web.render import Renderer
from monitor.web.session import Sessions
from monitor.web.signup_mail import ALREADY, CONFIRM, Mailer, Sent, message, send_once
from monitor.web.unsubscribe import CLOCK_SKEW, Purpose, TokenError, make_token

COOKIE = "monitor_signup"  # ties the sign-up pages' CSRF tokens to one browser
KINDS = ("immediate", "daily", "weekly")
LANGUAGE_NAMES = {"fr": "Français", "en": "English", "ar": "العربية"}  # each in its own words
_TIME, _SECRET, _MAC = 8, 16, 16
_DOMAIN = b"monitor-signup-confirm\0"


def confirm_token(key: bytes, now: datetime) -> tuple[str, str]:
    """A new confirmation link's token, and the code the store keeps for it (the SHA-256 of
    its secret: the table alone does not give working links)."""
    secret = secrets.token_bytes(_SECRET)
    payload = int(now.timestamp()).to_bytes(_TIME, "big") + secret
    mac = hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()[:_MAC]
    token = base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode()
    return token, hashlib.sha256(secret).hexdigest()


def confirmed_code(key: bytes, token: str, now: datetime) -> str:
    """The code of a genuine confirmation token under 48 h old; TokenError (400 forged, 410
    expired) otherwise."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed token", 400) from None
    payload, mac = raw[:-_MAC], raw[-_MAC:]
    good = hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()[:_MAC]
    if len(raw) != _TIME + _SECRET + _MAC or not hmac.compare_digest(mac, good):
        raise TokenError("invalid token", 400)
    issued = datetime.fromtimestamp(int.from_bytes(payload[:_TIME], "big"), UTC)
    if issued > now + CLOCK_SKEW:
        raise TokenError("invalid token", 400)
    if now - issued > PENDING:
        raise TokenError("expired token", 410)
    return hashlib.sha256(payload[_TIME:]).hexdigest()


def client_address(request: web.Request, trusted: Sequence[str]) -> str:
    """Who sent ``request``: the peer, or, when the peer is a trusted proxy, the last address of
    ``X-Forwarded-For`` that is not one (a client may write anything before it)."""
    networks = [ipaddress.ip_network(net, strict=False) for net in trusted]

    def proxy(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in networks)

    peer = request.remote or ""
    if not proxy(peer):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not proxy(hop):
            return hop
    return peer


def _configured(config: Config, address: str) -> str | None:
    """The configured subscriber at ``address``, if any (not one who signed up)."""
    name = owner(config.subscribers, address)
    return None if name is None or name.startswith(SIGNED_UP_MARK) else name


class Refused(Exception):
    """A sign-up form that cannot be taken: ``problem`` is the word saying why."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class SignupRoutes:
    def __init__(
        self,
        config: Callable[[], Config],  # its subscribers are the effective ones
        engine: AsyncEngine,
        web_key: bytes,  # the forms' CSRF tokens (monitor.web.session)
        token_key: bytes,  # the links' tokens (monitor.web.unsubscribe's key)
        clock: Callable[[], datetime],
        renderer: Renderer | None = None,  # shared with the analysts' app, if any
        mailer: Mailer | None = None,  # None: a connection of the configured smtp per email
    ) -> None:
        self.config, self.clock, self.mailer = config, clock, mailer
        self.renderer = renderer or Renderer(config)
        self.forms = AnonymousForms(Sessions(web_key), COOKIE, "/subscribe")
        self.token_key = token_key
        self.confirm_key = hmac.new(token_key, b"signup", hashlib.sha256).digest()
        self.signups, self.book = Signups(engine), SubscriberBook(engine)
        self.standing = Standing(engine)
        self.throttle = Throttle(clock)
        self.sending: set[asyncio.Task[None]] = set()

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/subscribe", self._form)
        router.add_post("/subscribe", self._submit)
        router.add_get("/subscribe/confirm/{token}", self._confirm_form)
        router.add_post("/subscribe/confirm/{token}", self._confirm)

    async def settled(self) -> None:
        """Wait for the emails being sent (tests; the daemon's close)."""
        while self.sending:
            await asyncio.gather(*self.sending)

    def _signup(self) -> SignupConfig:
        http = self.config().http
        if http is None or http.signup is None:  # (a reload took it away)
            raise web.HTTPNotFound()
        return http.signup

    def _topics(self, signup: SignupConfig) -> list[Topic]:
        rules = {rule.name: rule for rule in self.config().rules}
        return [
            Topic(name, rules[name].label or name, rules[name].description or "")
            for name in signup.rules
            if name in rules
        ]

    def _page(
        self, request: web.Request, template: str, title: str, status: int = 200, **values: Any
    ) -> web.Response:
        nonce = self.forms.nonce(request)
        response = self.renderer.render(
            request, template, title, status, csrf=self.forms.token(nonce), **values
        )
        self.forms.keep(response, nonce, self.renderer.secure())
        return response

    def _form_page(
        self,
        request: web.Request,
        status: int = 200,
        problem: str = "",
        form: Mapping[str, object] | None = None,
    ) -> web.Response:
        lang, _ = language.chosen(request, self.config().language)
        shown = {"address": "", "rules": [], "schedule": "daily", "time": "08:00",
                 "day": "mon", "language": lang, **(form or {})}  # fmt: skip
        return self._page(
            request, "subscribe.html.j2", "subscribe", status, problem=problem, form=shown,
            topics=self._topics(self._signup()), kinds=KINDS, days=DAYS,
            mail_languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES],
        )  # fmt: skip

    def _said(self, request: web.Request, title: str, text: str, status: int = 200) -> web.Response:
        return self._page(request, "message.html.j2", title, status, message=text)

    async def _form(self, request: web.Request) -> web.Response:
        self._signup()
        return self._form_page(request)

    @staticmethod
    def _read(form: Mapping[str, Any], rules: list[str], offered: Sequence[str]) -> Requested:
        try:
            address = normal_address(str(form.get("address", "")))
        except ValueError:
            raise Refused("bad_address") from None
        if not rules or any(rule not in offered for rule in rules):
            raise Refused("bad_topics")
        kind, at, day = (str(form.get(k, "")) for k in ("schedule", "time", "day"))
        try:
            digest = form_schedule(kind, at, day)
        except ValueError:
            raise Refused("bad_schedule") from None
        lang = form.get("language")
        if lang not in LANGUAGES:
            raise Refused("bad_language")
        return Requested(address, tuple(dict.fromkeys(rules)), digest, str(lang))

    async def _submit(self, request: web.Request) -> web.Response:
        signup = self._signup()
        form = await posted_form(request)
        if not self.forms.ok(request, form):
            return self._form_page(request, 403, "forbidden")
        http = self.config().http
        client = client_address(request, [] if http is None else http.trusted_proxies)
        if self.throttle.blocked(client):
            event("signup-refused", reason="throttled")
            return self._form_page(request, 429, "too_many")
        self.throttle.failed(client)  # (counts this sign-up against the client's allowance)
        shown = {k: str(form.get(k, "")) for k in ("address", "schedule", "time", "day")}
        rules = [str(rule) for rule in form.getall("rule", [])]
        shown_form = {**shown, "rules": rules, "language": str(form.get("language", ""))}
        if form.get("website"):  # only a robot fills what it cannot see
            event("signup-refused", reason="honeypot")
            return self._said(request, "check_inbox", "signup_sent")
        try:
            asked = self._read(form, rules, signup.rules)
        except Refused as refused:
            event("signup-refused", reason=refused.problem)
            return self._form_page(request, 400, refused.problem, shown_form)
        now = self.clock()
        token, code = confirm_token(self.confirm_key, now)
        if await self.signups.request(asked, code, now):
            task = asyncio.create_task(self._mail(asked, token, now))
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)
        else:
            event("signup-held", reason="address limit")
        return self._said(request, "check_inbox", "signup_sent")

    async def _mail(self, asked: Requested, token: str, now: datetime) -> None:
        """The one email of a sign-up: a confirmation link, or the subscriber's preferences."""
        config = self.config()
        http, smtp = config.http, config.smtp
        if http is None or smtp is None or http.base_url is None:
            return  # (the configuration check requires both with http.signup)
        base = http.base_url.rstrip("/")
        existing = await self._existing(config, asked.address)
        if existing is None:
            url, words = f"{base}/subscribe/confirm/{token}", CONFIRM[asked.language]
        else:
            name, address = existing
            prefs = make_token(self.token_key, name, address, now, Purpose.PREFERENCES)
            url, words = f"{base}/preferences/{prefs}", ALREADY[asked.language]
        sent = await send_once(smtp, self.mailer, message(smtp, asked.address, words, url, now))
        if sent is Sent.REFUSED:
            try:
                await self.signups.refused(asked.address, now)
            except StoreError as exc:  # (a background task: logged, never raised)
                event("signup-refusal-unrecorded", level=logging.ERROR, error=str(exc))
        event("signup-mail", sent=sent.value, existing=existing is not None)

    async def _existing(self, config: Config, address: str) -> tuple[str, str] | None:
        """The subscriber (name, address as it holds it) already at ``address``, if any."""
        name = _configured(config, address)
        if name is not None:
            held = next(s.email for s in config.subscribers if s.name == name)
            return name, held or address
        holder = await self.book.holder(address)
        if holder is None or holder[0] in await self.standing.unsubscribed():
            return None  # (one who left may sign up again: SubscriberBook.sign_up)
        return holder  # (the address it holds: ``Ana@`` when ``ana@`` was typed)

    async def _pending(self, request: web.Request) -> Requested | web.Response:
        try:
            code = confirmed_code(self.confirm_key, request.match_info["token"], self.clock())
        except TokenError as exc:
            event("signup-confirm-refused", reason=str(exc), status=exc.status)
            text = "link_expired" if exc.status == 410 else "link_invalid"
            return self._said(request, "refused", text, exc.status)
        asked = await self.signups.pending(code, self.clock())
        if asked is None:  # forgotten, or replaced by a later email's link
            return self._said(request, "refused", "link_expired", 410)
        return asked

    def _labels(self, asked: Requested) -> list[str]:
        topics = {topic.name: topic.label for topic in self._topics(self._signup())}
        return [topics.get(rule, rule) for rule in asked.rules]

    async def _confirm_form(self, request: web.Request) -> web.Response:
        self._signup()
        asked = await self._pending(request)
        if isinstance(asked, web.Response):
            return asked
        return self._page(
            request, "subscribe_confirm.html.j2", "confirm_subscription", problem="",
            address=asked.address, labels=self._labels(asked),
        )  # fmt: skip

    async def _confirm(self, request: web.Request) -> web.Response:
        self._signup()
        asked = await self._pending(request)
        if isinstance(asked, web.Response):
            return asked
        if not self.forms.ok(request, await posted_form(request)):
            return self._page(
                request, "subscribe_confirm.html.j2", "confirm_subscription", 403,
                problem="forbidden", address=asked.address, labels=self._labels(asked),
            )  # fmt: skip
        if _configured(self.config(), asked.address) is None:  # never a second subscription
            name, created = await self.book.sign_up(
                asked.address, self.clock(), rules=asked.rules, digest=asked.digest,
                language=asked.language,
            )  # fmt: skip
            event("signed-up", subscriber=name, created=created)
        return self._said(request, "subscribed", "subscribed_text")
