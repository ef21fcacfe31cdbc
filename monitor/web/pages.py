"""The analysts' web app (DESIGN §3.7), on the daemon's server when ``http.app`` is configured:
``/login``, ``/logout``, the overview ``/``, the articles ``/items``, its style sheet, and
``/api/*``.

Every page: server-rendered (Jinja2, autoescaped), no script, one style sheet from
``/static``, and headers that forbid anything else (:data:`HEADERS`). Without a valid session a
page redirects to ``/login?next=PATH`` and ``/api/*`` answers 401. Every form carries a CSRF
token (monitor.web.session); a POST without a valid one gets 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web
from aiohttp.web_request import FileField
from multidict import MultiDict, MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.sections import AppConfig
from monitor.core.logs import event
from monitor.web import language
from monitor.web.access import Access, Verdict
from monitor.web.api_sources import BadParameter, sources_json
from monitor.web.basic import CHALLENGE, BasicAuth, credentials
from monitor.web.items import items_json, items_page
from monitor.web.overview import overview
from monitor.web.session import COOKIE, LOGIN_COOKIE, Session, Sessions, new_nonce
from monitor.web.times import local

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
STATIC = {"app.css": "text/css", "icon.svg": "image/svg+xml"}

Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def local_path(value: object) -> str:
    """``value`` when it is a path on this site (``/…``), else ``/``: never another origin
    (``//host``, ``/\\host``, ``https://…``), so a login cannot send anyone elsewhere."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in value):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


async def _form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | FileField]:
    """The posted form; an empty one when the body cannot be decoded (its CSRF check fails)."""
    try:
        return await request.post()
    except ValueError:
        return MultiDictProxy(MultiDict())


class AppRoutes:
    def __init__(
        self,
        config: Callable[[], Config],
        engine: AsyncEngine,
        key: bytes,
        clock: Callable[[], datetime],
    ) -> None:
        self.config, self.engine, self.clock = config, engine, clock
        self.sessions = Sessions(key)
        self.access = Access(clock)
        self.basic = BasicAuth(self.access, clock)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("monitor.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        folder = files("monitor.web") / "static"
        self.static = {name: (folder / name).read_bytes() for name in STATIC}

    def add_to(self, router: web.UrlDispatcher) -> None:
        router.add_get("/login", self._login_form)
        router.add_post("/login", self._login)
        router.add_post("/logout", self._signed_in(self._logout))
        router.add_get("/", self._signed_in(self._overview))
        router.add_get("/items", self._signed_in(self._items))
        router.add_get("/static/{name}", self._static)
        router.add_get("/api/sources", self._api_sources)
        router.add_get("/api/items", self._api_items)
        router.add_route("*", "/api/{tail:.*}", self._api)

    # -- what the configuration says, read at each request (a reload applies at once)

    def _app(self) -> AppConfig | None:
        http = self.config().http
        return None if http is None else http.app

    def _hashes(self, app: AppConfig) -> dict[str, str]:
        return {user.name: user.password.get_secret_value() for user in app.users}

    def _secure(self) -> bool:
        http = self.config().http
        return http is not None and (http.base_url or "").startswith("https://")

    def session(self, request: web.Request) -> Session | None:
        app, cookie = self._app(), request.cookies.get(COOKIE)
        if app is None or not cookie:
            return None
        return self.sessions.check(cookie, self._hashes(app), self.clock(), app.session)

    # -- answers

    def render(
        self,
        request: web.Request,
        template: str,
        title_key: str,
        status: int = 200,
        session: Session | None = None,
        csrf: str | None = None,  # the login form's (there is no session yet)
        **values: Any,
    ) -> web.Response:
        config = self.config()
        lang, switched = language.chosen(request, config.language)
        w = language.words(lang)
        zone = config.zone

        def when(moment: datetime) -> str:
            return local(moment, zone)

        def here_lang(other: str) -> str:
            query = {k: v for k, v in request.query.items() if k != "lang"}
            return f"{request.path}?{urlencode({**query, 'lang': other})}"

        text = self.templates.get_template(template).render(
            lang=lang, langs=language.LANGS, w=w, title=w[title_key], here_lang=here_lang,
            user=None if session is None else session.user, when=when, path=request.path,
            csrf=(csrf or "") if session is None else self.sessions.csrf(session.cookie),
            **values,
        )  # fmt: skip
        response = web.Response(status=status, text=text, content_type="text/html", headers=HEADERS)
        if switched:
            response.set_cookie(
                language.COOKIE, lang, max_age=365 * 86400, path="/", samesite="Lax",
                httponly=True, secure=self._secure(),
            )  # fmt: skip
        return response

    def _signed_in(self, handler: Handler) -> Route:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if self._app() is None:
                raise web.HTTPNotFound()
            session = self.session(request)
            if session is None:
                if request.method != "GET":
                    raise web.HTTPSeeOther("/login")
                raise web.HTTPSeeOther("/login?" + urlencode({"next": request.path_qs}))
            if request.method == "POST":
                form = await _form(request)
                if not self.sessions.csrf_ok(session.cookie, form.get("csrf")):
                    return self.render(
                        request, "message.html.j2", "refused", 403, session, message="forbidden"
                    )
            return await handler(request, session)

        return guarded

    # -- handlers

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if self._app() is None or name not in STATIC:
            raise web.HTTPNotFound()
        headers = {**HEADERS, "Cache-Control": "public, max-age=3600"}
        return web.Response(body=self.static[name], content_type=STATIC[name], headers=headers)

    async def _api_user(self, request: web.Request) -> str | web.Response:
        """Who asks ``/api/*`` (a session, or HTTP Basic), else the answer refusing them: 401
        (or 429 while the name is paused), never saying whether the name exists."""
        app = self._app()
        if app is None:
            raise web.HTTPNotFound()
        session = self.session(request)
        if session is not None:
            return session.user
        pair = credentials(request.headers.get("Authorization"))
        if pair is not None:
            verdict = await self.basic.check(self._hashes(app), *pair)
            if verdict is Verdict.OK:
                return pair[0]
            event("web-api-refused", reason=verdict.value)  # (the name is not logged)
            if verdict is Verdict.THROTTLED:
                return web.json_response({"error": "throttled"}, status=429, headers=HEADERS)
        headers = {**HEADERS, "WWW-Authenticate": CHALLENGE}
        return web.json_response({"error": "unauthorized"}, status=401, headers=headers)

    async def _api(self, request: web.Request) -> web.Response:
        user = await self._api_user(request)
        if isinstance(user, web.Response):
            return user
        return web.json_response({"error": "not found"}, status=404, headers=HEADERS)

    async def _api_sources(self, request: web.Request) -> web.Response:
        user = await self._api_user(request)
        if isinstance(user, web.Response):
            return user
        try:
            body = await sources_json(self.engine, self.config(), request.query, self.clock())
        except BadParameter as exc:
            return web.json_response({"error": str(exc)}, status=400, headers=HEADERS)
        return web.json_response(body, headers=HEADERS)

    async def _api_items(self, request: web.Request) -> web.Response:
        user = await self._api_user(request)
        if isinstance(user, web.Response):
            return user
        try:
            body = await items_json(self.engine, self.config(), request.query, self.clock())
        except BadParameter as exc:
            return web.json_response({"error": str(exc)}, status=400, headers=HEADERS)
        return web.json_response(body, headers=HEADERS)

    def _login_page(
        self, request: web.Request, status: int, problem: str, name: str, next_path: str
    ) -> web.Response:
        nonce = request.cookies.get(LOGIN_COOKIE) or new_nonce()
        response = self.render(
            request, "login.html.j2", "login", status, csrf=self.sessions.csrf(nonce),
            problem=problem, name=name, next=next_path,
        )  # fmt: skip
        response.set_cookie(
            LOGIN_COOKIE, nonce, path="/login", httponly=True, samesite="Lax",
            secure=self._secure(),
        )  # fmt: skip
        return response

    async def _login_form(self, request: web.Request) -> web.Response:
        if self._app() is None:
            raise web.HTTPNotFound()
        next_path = local_path(request.query.get("next", "/"))
        if self.session(request) is not None:
            raise web.HTTPSeeOther(next_path)
        return self._login_page(request, 200, "", "", next_path)

    async def _login(self, request: web.Request) -> web.Response:
        app = self._app()
        if app is None:
            raise web.HTTPNotFound()
        form = await _form(request)
        next_path = local_path(form.get("next", "/"))
        if not self.sessions.csrf_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
            return self._login_page(request, 403, "forbidden", "", next_path)
        name, password = form.get("name"), form.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            return self._login_page(request, 400, "wrong", "", next_path)
        hashes = self._hashes(app)
        verdict = await self.access.check(hashes, name, password)
        if verdict is not Verdict.OK:
            event("web-login-refused", reason=verdict.value)  # (the name is not logged)
            status, problem = (429, "throttled") if verdict is Verdict.THROTTLED else (401, "wrong")
            return self._login_page(request, status, problem, name, next_path)
        event("web-login", user=name)
        response = web.HTTPSeeOther(next_path)
        response.set_cookie(
            COOKIE, self.sessions.make(name, hashes[name], self.clock()),
            max_age=int(app.session.total_seconds()), path="/", httponly=True,
            samesite="Lax", secure=self._secure(),
        )  # fmt: skip
        response.del_cookie(LOGIN_COOKIE, path="/login")
        raise response

    async def _logout(self, request: web.Request, session: Session) -> web.StreamResponse:
        event("web-logout", user=session.user)
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def _overview(self, request: web.Request, session: Session) -> web.StreamResponse:
        values: Mapping[str, Any] = await overview(
            self.engine, self.config(), request.query, self.clock()
        )
        return self.render(request, "overview.html.j2", "overview", 200, session, **values)

    async def _items(self, request: web.Request, session: Session) -> web.StreamResponse:
        values = await items_page(self.engine, self.config(), request.query, self.clock())
        status = 400 if values["problem"] else 200
        return self.render(request, "items.html.j2", "items", status, session, **values)
