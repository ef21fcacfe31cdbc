"""The analysts' web app (DESIGN §3.7), on the daemon's server when ``http.app`` is configured:
``/login``, ``/logout``, the overview ``/`` and its retry button (``/retry``), the
articles ``/items``, a source's page ``/sources/NAME``, ``/rules/try``, the style sheet,
and ``/api/*``; signing in is monitor.web.login's, trying rules monitor.web.try_routes'.

Every page: server-rendered (Jinja2, autoescaped), no script, one style sheet from
``/static``, and headers that forbid anything else (monitor.web.guard). Without a valid session a
page redirects to ``/login?next=PATH`` and ``/api/*`` answers 401. Every form carries a CSRF
token (monitor.web.session); a POST without a valid one gets 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.sections import AppConfig
from monitor.core.logs import event
from monitor.store.history import requeue_dead
from monitor.web import language
from monitor.web.access import Access, Verdict
from monitor.web.api_sources import sources_json
from monitor.web.basic import CHALLENGE, BasicAuth, credentials
from monitor.web.guard import HEADERS, posted_form
from monitor.web.items import items_json, items_page
from monitor.web.login import LoginRoutes
from monitor.web.overview import RETRIED, overview
from monitor.web.params import BadParameter
from monitor.web.render import Renderer
from monitor.web.session import COOKIE, Session, Sessions
from monitor.web.source_page import source_json, source_page
from monitor.web.try_routes import TryRoutes
from monitor.web.trying import Trials

Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
Answer = Callable[[web.Request], Awaitable[dict[str, Any] | None]]  # an API's body, None: 404


class AppRoutes:
    def __init__(
        self,
        config: Callable[[], Config],
        engine: AsyncEngine,
        key: bytes,
        clock: Callable[[], datetime],
        renderer: Renderer | None = None,  # shared with the subscribers' pages, if any
    ) -> None:
        self.config, self.engine, self.clock = config, engine, clock
        self.renderer = renderer or Renderer(config)
        self.sessions = Sessions(key)
        self.access = Access(clock)
        self.basic = BasicAuth(self.access, clock)
        self.trials = Trials()
        self.login, self.trying = LoginRoutes(self), TryRoutes(self)

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/login", self.login.form)
        router.add_post("/login", self.login.login)
        router.add_post("/logout", self._signed_in(self.login.logout))
        router.add_get("/", self._signed_in(self._overview))
        router.add_post("/retry", self._signed_in(self._retry))
        router.add_get("/sources/{name}", self._signed_in(self._source))
        router.add_get("/items", self._signed_in(self._items))
        router.add_get("/rules/try", self._signed_in(self.trying.form))
        router.add_post("/rules/try", self._signed_in(self.trying.tried))
        router.add_get("/api/sources", self._json_api(self._sources_body))
        router.add_post("/api/rules/try", self.trying.api)
        router.add_get("/api/sources/{name}", self._json_api(self._source_body, "no such source"))
        router.add_get("/api/items", self._json_api(self._items_body))
        router.add_route("*", "/api/{tail:.*}", self._json_api(self._no_api))

    # -- what the configuration says, read at each request (a reload applies at once)

    def app_config(self) -> AppConfig | None:
        http = self.config().http
        return None if http is None else http.app

    def hashes(self, app: AppConfig) -> dict[str, str]:
        return {user.name: user.password.get_secret_value() for user in app.users}

    def secure(self) -> bool:
        return self.renderer.secure()

    def session(self, request: web.Request) -> Session | None:
        app, cookie = self.app_config(), request.cookies.get(COOKIE)
        if app is None or not cookie:
            return None
        return self.sessions.check(cookie, self.hashes(app), self.clock(), app.session)

    # -- answers

    def render(
        self,
        request: web.Request,
        template: str,
        title_key: str,
        status: int = 200,
        session: Session | None = None,
        csrf: str | None = None,  # the login form's (there is no session yet)
        title: str | None = None,  # else the word of ``title_key``
        **values: Any,
    ) -> web.Response:
        user = None if session is None else session.user
        token = (csrf or "") if session is None else self.sessions.csrf(session.cookie)
        return self.renderer.render(
            request, template, title_key, status, csrf=token, user=user, title=title, **values
        )

    def _signed_in(self, handler: Handler) -> Route:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if self.app_config() is None:
                raise web.HTTPNotFound()
            session = self.session(request)
            if session is None:
                if request.method != "GET":
                    raise web.HTTPSeeOther("/login")
                raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path_qs}))
            if request.method == "POST":
                form = await posted_form(request)
                if not self.sessions.csrf_ok(session.cookie, form.get("csrf")):
                    return self.render(
                        request, "message.html.j2", "refused", 403, session, message="forbidden"
                    )
            return await handler(request, session)

        return guarded

    # -- handlers

    async def api_user(self, request: web.Request) -> str | web.Response:
        """Who asks ``/api/*`` (a session, or HTTP Basic), else the answer refusing them: 401
        (or 429 while the name is paused), never saying whether the name exists."""
        app = self.app_config()
        if app is None:
            raise web.HTTPNotFound()
        session = self.session(request)
        if session is not None:
            return session.user
        pair = credentials(request.headers.get("Authorization"))
        if pair is not None:
            verdict = await self.basic.check(self.hashes(app), *pair)
            if verdict is Verdict.OK:
                return pair[0]
            event("web-api-refused", reason=verdict.value)  # (the name is not logged)
            if verdict is Verdict.THROTTLED:
                return web.json_response({"error": "throttled"}, status=429, headers=HEADERS)
        headers = {**HEADERS, "WWW-Authenticate": CHALLENGE}
        return web.json_response({"error": "unauthorized"}, status=401, headers=headers)

    def _json_api(self, answer: Answer, missing: str = "not found") -> Route:
        """A ``GET /api/*`` route: the asker checked (:meth:`api_user`), then ``answer``'s
        body as JSON; a parameter it cannot take a 400 naming it, None a 404 saying
        ``missing``."""

        async def answered(request: web.Request) -> web.Response:
            user = await self.api_user(request)
            if isinstance(user, web.Response):
                return user
            try:
                body = await answer(request)
            except BadParameter as exc:
                return web.json_response({"error": str(exc)}, status=400, headers=HEADERS)
            if body is None:
                return web.json_response({"error": missing}, status=404, headers=HEADERS)
            return web.json_response(body, headers=HEADERS)

        return answered

    async def _no_api(self, request: web.Request) -> None:
        return None

    async def _source_body(self, request: web.Request) -> dict[str, Any] | None:
        name = request.match_info["name"]
        return await source_json(self.engine, self.config(), name, request.query)

    async def _sources_body(self, request: web.Request) -> dict[str, Any]:
        return await sources_json(self.engine, self.config(), request.query, self.clock())

    async def _items_body(self, request: web.Request) -> dict[str, Any]:
        return await items_json(self.engine, self.config(), request.query, self.clock())

    async def _overview(self, request: web.Request, session: Session) -> web.StreamResponse:
        values: Mapping[str, Any] = await overview(
            self.engine, self.config(), request.query, self.clock()
        )
        return self.render(request, "overview.html.j2", "overview", 200, session, **values)

    async def _retry(self, request: web.Request, session: Session) -> web.StreamResponse:
        """The banner's button: what `monitor retry` does for every configured subscriber (the
        store only, so any replica may answer), then back to the overview saying how many."""
        names = [subscriber.name for subscriber in self.config().subscribers]
        count = await requeue_dead(self.engine, names, self.clock())
        event("web-retry", user=session.user, digests=count)
        raise web.HTTPSeeOther("/?" + urlencode({RETRIED: count}))

    async def _source(self, request: web.Request, session: Session) -> web.StreamResponse:
        config, name = self.config(), request.match_info["name"]
        lang, _ = language.chosen(request, config.language)
        values = await source_page(self.engine, config, name, request.query, lang)
        if values is None:
            return self.render(
                request, "message.html.j2", "not_found", 404, session, message="not_found"
            )
        return self.render(request, "source.html.j2", "source", 200, session, title=name, **values)

    async def _items(self, request: web.Request, session: Session) -> web.StreamResponse:
        values = await items_page(self.engine, self.config(), request.query, self.clock())
        status = 400 if values["problem"] else 200
        return self.render(request, "items.html.j2", "items", status, session, **values)
