"""Signing in and out of the analysts' web app: ``GET``/``POST /login`` (a form with its own
CSRF token, bound to a nonce cookie since there is no session yet) and ``POST /logout``."""

from __future__ import annotations

from aiohttp import web

from monitor.core.logs import event
from monitor.web.access import Verdict
from monitor.web.anonymous import AnonymousForms
from monitor.web.guard import local_path, posted_form
from monitor.web.parts import AppParts
from monitor.web.session import COOKIE, LOGIN_COOKIE, Session


class LoginRoutes:
    def __init__(self, app: AppParts) -> None:
        self.app = app
        self.forms = AnonymousForms(app.sessions, LOGIN_COOKIE, "/login")

    def _page(
        self, request: web.Request, status: int, problem: str, name: str, next_path: str
    ) -> web.Response:
        nonce = self.forms.nonce(request)
        response = self.app.render(
            request, "login.html.j2", "login", status, csrf=self.forms.token(nonce),
            problem=problem, name=name, next=next_path,
        )  # fmt: skip
        self.forms.keep(response, nonce, self.app.secure())
        return response

    async def form(self, request: web.Request) -> web.Response:
        if self.app.app_config() is None:
            raise web.HTTPNotFound()
        next_path = local_path(request.query.get("next", "/"))
        if self.app.session(request) is not None:
            raise web.HTTPSeeOther(next_path)
        return self._page(request, 200, "", "", next_path)

    async def login(self, request: web.Request) -> web.Response:
        app = self.app.app_config()
        if app is None:
            raise web.HTTPNotFound()
        form = await posted_form(request)
        next_path = local_path(form.get("next", "/"))
        if not self.forms.ok(request, form):
            return self._page(request, 403, "forbidden", "", next_path)
        name, password = form.get("name"), form.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            return self._page(request, 400, "wrong", "", next_path)
        hashes = self.app.hashes(app)
        verdict = await self.app.access.check(hashes, name, password)
        if verdict is not Verdict.OK:
            event("web-login-refused", reason=verdict.value)  # (the name is not logged)
            status, problem = (429, "throttled") if verdict is Verdict.THROTTLED else (401, "wrong")
            return self._page(request, status, problem, name, next_path)
        event("web-login", user=name)
        response = web.HTTPSeeOther(next_path)
        response.set_cookie(
            COOKIE, self.app.sessions.make(name, hashes[name], self.app.clock()),
            max_age=int(app.session.total_seconds()), path="/", httponly=True,
            samesite="Lax", secure=self.app.secure(),
        )  # fmt: skip
        self.forms.forget(response)
        raise response

    async def logout(self, request: web.Request, session: Session) -> web.StreamResponse:
        event("web-logout", user=session.user)
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response
