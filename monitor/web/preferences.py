"""A subscriber's preferences page, ``/preferences/TOKEN`` (issue 24, DESIGN §3.8), served
with ``http.signup`` whether or not the analysts' app (``http.app``) is on. Every email digest
links to it with a fresh token (monitor.web.unsubscribe.link_url, Purpose.PREFERENCES).

- ``GET`` shows the subscriber's schedule, topics, language and ``max_items``, each saying
  whether it is the configuration's or its own choice, and its pause; it changes nothing.
- ``POST`` applies one form (``action``: save, pause, resume, unsubscribe) and shows the page
  again with a confirmation in the subscriber's language. Changes reach the daemon within a
  tick (SubscriberBook bumps its generation): from the next digest. What is owed stays owed.

There is no session: a form's CSRF token is an HMAC of the link's token with the store's key
(:func:`form_token`), so only a page served for that link can post to it. A forged token or one
for another purpose gets 400, an expired one 410, one sent to an address the subscriber no
longer has 400: none changes anything.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from monitor.config.model import Config
from monitor.config.schedule import DAYS
from monitor.core.logs import event
from monitor.delivery.subscribers import Effective, effective
from monitor.store.standing import Standing, Unsubscription
from monitor.store.subscribers import SubscriberBook, SubscriberState
from monitor.web import language
from monitor.web.guard import HEADERS, posted_form
from monitor.web.preference_form import LANGUAGES, FormError, changes, pause_until, shown
from monitor.web.unsubscribe import Purpose, TokenClaim, TokenError, check_token

Unsubscribe = Callable[[TokenClaim], Awaitable[Unsubscription]]
_FORM_DOMAIN = b"monitor-preferences-form\0"
PAGE_HEADERS = {**HEADERS, "Referrer-Policy": "no-referrer"}  # the token is in the URL


def form_token(key: bytes, token: str) -> str:
    """The CSRF token of the forms of the page of link ``token``."""
    return hmac.new(key, _FORM_DOMAIN + token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Found:
    """The subscriber a genuine link names, as the daemon serves it now."""

    claim: TokenClaim
    address: str
    served: Effective
    configured: Effective | None  # as the configuration alone gives it (None: signed up)
    state: SubscriberState | None


class PreferencesRoutes:
    def __init__(
        self,
        config: Callable[[], Config],  # as loaded: the subscribers without their choices
        book: SubscriberBook,
        standing: Standing,
        key: bytes,  # the links' token key (monitor.web.unsubscribe.load_key)
        clock: Callable[[], datetime],
        unsubscribe: Unsubscribe,
        templates: jinja2.Environment,  # the pages' own (monitor.web.render.Renderer)
    ) -> None:
        self.config, self.book, self.standing = config, book, standing
        self.key, self.clock, self.unsubscribe = key, clock, unsubscribe
        self.templates = templates
        self.actions: dict[str, Callable[[Found, Mapping[str, str], list[str]], Awaitable[str]]] = {
            "save": self._save,
            "pause": self._pause,
            "resume": self._resume,
            "unsubscribe": self._unsubscribe,
        }

    def add_to(self, router: web.UrlDispatcher) -> None:
        """The routes (the style sheet is served with the sign-up's, monitor.web.render)."""
        router.add_get("/preferences/{token}", self.page)
        router.add_post("/preferences/{token}", self.apply)

    # -- finding the subscriber

    async def _find(self, request: web.Request) -> Found | web.Response:
        config = self.config()
        if config.http is None or config.http.signup is None:
            raise web.HTTPNotFound()
        token = request.match_info["token"]
        try:
            claim = check_token(self.key, token, self.clock(), Purpose.PREFERENCES)
        except TokenError as exc:
            event("preferences-refused", reason=str(exc), status=exc.status)
            key = "pref_expired" if exc.status == 410 else "pref_invalid"
            return self._message(request, key, exc.status)
        known = await self.standing.address(claim.subscriber)
        if known is None or known[0] is None:
            return self._message(request, "pref_unknown", 404)
        if not claim.binds(self.key, *known):
            event("preferences-refused", reason="address changed", status=400)
            return self._message(request, "pref_other_address", 400)
        choices = await self.book.choices()
        served = next(
            (e for e in effective(config, choices) if e.subscriber.name == claim.subscriber), None
        )
        if served is None:
            return self._message(request, "pref_unknown", 404)
        configured = next(
            (Effective(s) for s in config.subscribers if s.name == claim.subscriber), None
        )
        state = (await self.book.states()).get(claim.subscriber)
        return Found(claim, known[0], served, configured, state)

    # -- answers

    def _lang(self, request: web.Request, found: Found | None) -> language.Lang:
        asked = request.query.get("lang")
        for lang in language.LANGS:
            if asked == lang:
                return lang
        own = None if found is None else found.served.subscriber.language
        for lang in language.LANGS:
            if own == lang:
                return lang
        return language.chosen(request, self.config().language)[0]

    def _render(
        self, request: web.Request, status: int, found: Found | None, **values: Any
    ) -> web.Response:
        lang = self._lang(request, found)
        w = language.words(lang)
        text = self.templates.get_template("preferences.html.j2").render(
            lang=lang, langs=language.LANGS, w=w, path=request.path, found=found, **values
        )
        return web.Response(
            status=status, text=text, content_type="text/html", headers=PAGE_HEADERS
        )

    def _message(self, request: web.Request, key: str, status: int) -> web.Response:
        return self._render(request, status, None, message=key, problem=status >= 400)

    def _show(
        self, request: web.Request, found: Found, status: int = 200, message: str = ""
    ) -> web.Response:
        config = self.config()
        state = found.state
        now = self.clock()
        paused = state.paused_until if state is not None else None
        zone = config.zone
        return self._render(
            request, status, found,
            message=message, problem=status >= 400,
            csrf=form_token(self.key, request.match_info["token"]),
            values=shown(config, found.served, found.configured),
            days=DAYS, languages=LANGUAGES,
            paused_until=None if paused is None or paused <= now else paused.astimezone(zone),
            unsubscribed=state is not None and state.unsubscribed_at is not None,
            today=now.astimezone(zone).date().isoformat(),
        )  # fmt: skip

    # -- routes

    async def page(self, request: web.Request) -> web.Response:
        found = await self._find(request)
        if isinstance(found, web.Response):
            return found
        return self._show(request, found)

    async def apply(self, request: web.Request) -> web.Response:
        found = await self._find(request)
        if isinstance(found, web.Response):
            return found
        posted = await posted_form(request)
        expected = form_token(self.key, request.match_info["token"])
        sent = posted.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
            return self._message(request, "forbidden", 403)
        form = {k: v for k, v in posted.items() if isinstance(v, str)}
        rules = [v for v in posted.getall("rules", []) if isinstance(v, str)]
        action = self.actions.get(form.get("action", ""))
        if action is None or (found.state is not None and found.state.unsubscribed_at):
            return self._show(request, found, 400, "pref_bad_action")
        try:
            done = await action(found, form, rules)
        except FormError as exc:
            return self._show(request, found, 400, str(exc))
        event("preferences-changed", subscriber=found.claim.subscriber, action=done)
        again = await self._find(request)  # the page as it is now
        return again if isinstance(again, web.Response) else self._show(request, again, 200, done)

    # -- actions: each returns the key of its confirmation

    async def _save(self, found: Found, form: Mapping[str, str], rules: list[str]) -> str:
        config = self.config()
        asked = changes(config, found.served, found.configured, form, rules)
        if asked:
            await self.book.choose(found.claim.subscriber, found.address, asked, self.clock())
        return "pref_saved" if asked else "pref_unchanged"

    async def _pause(self, found: Found, form: Mapping[str, str], rules: list[str]) -> str:
        now = self.clock()
        until = pause_until(form.get("until", ""), now.astimezone(self.config().zone))
        await self.book.pause(found.claim.subscriber, until)
        return "pref_paused"

    async def _resume(self, found: Found, form: Mapping[str, str], rules: list[str]) -> str:
        await self.book.pause(found.claim.subscriber, None)
        return "pref_resumed"

    async def _unsubscribe(self, found: Found, form: Mapping[str, str], rules: list[str]) -> str:
        done = await self.unsubscribe(found.claim)
        if done is not Unsubscription.DONE:
            raise FormError("pref_other_address")
        return "pref_unsubscribed"
