"""Trying rules: the page ``/rules/try`` (a form, and its result) and ``POST /api/rules/try``,
over monitor.web.trying's trials."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from monitor.config.load import rules_text
from monitor.core.units import format_duration
from monitor.web import language, trying
from monitor.web.guard import HEADERS, posted_form
from monitor.web.parts import AppParts
from monitor.web.session import Session
from monitor.web.trying import WINDOW, WINDOWS, BadRequest, Busy, as_json

JSON = "application/json"
# a trial refused while another runs: when to ask again (seconds; a trial takes BUDGET at most)
RETRY_AFTER = "5"
BUSY_HEADERS = {**HEADERS, "Retry-After": RETRY_AFTER}


class TryRoutes:
    def __init__(self, app: AppParts) -> None:
        self.app = app

    async def _run(self, text: str, window: str) -> trying.Trial:
        app = self.app
        return await app.trials.run(app.engine, app.config(), text, window, app.clock())

    def _page(
        self, request: web.Request, session: Session, status: int = 200, **values: Any
    ) -> web.Response:
        config = self.app.config()
        values = {"text": "", "window": WINDOW, "trial": None, "refused": "", "rule": "", **values}
        return self.app.render(
            request, "rules_try.html.j2", "try_rules", status, session, windows=list(WINDOWS),
            retention=format_duration(config.retention.text),
            in_force=[rule.name for rule in config.rules], budget=f"{trying.BUDGET:g}", **values,
        )  # fmt: skip

    async def form(self, request: web.Request, session: Session) -> web.StreamResponse:
        """The form, empty or (``?rule=NAME``) holding a rule in force to start from."""
        window = request.query.get("window", WINDOW)
        name = request.query.get("rule", "")
        rule = next((rule for rule in self.app.config().rules if rule.name == name), None)
        return self._page(
            request, session, window=window if window in WINDOWS else WINDOW,
            text="" if rule is None else rules_text([rule]), rule="" if rule is None else name,
        )  # fmt: skip

    async def tried(self, request: web.Request, session: Session) -> web.StreamResponse:
        form = await posted_form(request)  # (read once by the CSRF check: aiohttp keeps it)
        text, window = form.get("rules", ""), form.get("window", WINDOW)
        if not isinstance(text, str) or not isinstance(window, str):
            raise web.HTTPBadRequest()
        try:
            trial = await self._run(text, window)
        except BadRequest as exc:
            return self._page(request, session, 400, text=text, refused=str(exc))
        except Busy:
            lang, _ = language.chosen(request, self.app.config().language)
            refused = language.words(lang)["try_busy"]
            page = self._page(request, session, 503, text=text, window=window, refused=refused)
            page.headers["Retry-After"] = RETRY_AFTER
            return page
        status = 200 if not trial.errors else 422
        return self._page(request, session, status, text=text, window=window, trial=trial)

    async def api(self, request: web.Request) -> web.Response:
        """``POST /api/rules/try``. Only a JSON body is taken (Content-Type application/json):
        a page of another site can send a cookie-carrying POST only as a form (urlencoded,
        multipart or text/plain); a JSON one needs a CORS preflight, which this server never
        grants. So a session's cookie cannot be used across sites to run a trial, with or
        without its SameSite=Lax, and the API needs no CSRF token (with HTTP Basic there is no
        cookie to forge with)."""
        user = await self.app.api_user(request)
        if isinstance(user, web.Response):
            return user
        if request.content_type != JSON:
            error = {"error": f"Content-Type: {JSON} only"}
            return web.json_response(error, status=415, headers=HEADERS)
        try:
            body = await request.json()
        except ValueError:
            body = None
        text = body.get("rules") if isinstance(body, dict) else None
        window = body.get("window", WINDOW) if isinstance(body, dict) else WINDOW
        if not isinstance(text, str):
            error = {"error": 'a JSON object with "rules": YAML text, and "window"'}
            return web.json_response(error, status=400, headers=HEADERS)
        try:
            trial = await self._run(text, window)
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400, headers=HEADERS)
        except Busy:
            error = {"error": "busy: another trial is running; try again when it is done"}
            return web.json_response(error, status=503, headers=BUSY_HEADERS)
        return web.json_response(as_json(trial), headers=HEADERS)
