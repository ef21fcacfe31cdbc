"""The analysts' web app (DESIGN §3.7), on the daemon's server when ``http.app`` is configured:
``/login``, ``/logout``, the overview ``/`` and its retry button (``/retry``), the
articles ``/items``, a source's page ``/sources/NAME``, ``/rules/try``, the style sheet,
and ``/api/*``.

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

from monitor.config.load import rules_text
from monitor.config.model import Config
from monitor.config.sections import AppConfig
from monitor.core.logs import event
from monitor.core.units import format_duration
from monitor.digest.snippets import safe_href
from monitor.store.history import requeue_dead
from monitor.web import language, trying
from monitor.web.access import Access, Verdict
from monitor.web.api_sources import sources_json
from monitor.web.basic import CHALLENGE, BasicAuth, credentials
from monitor.web.items import items_json, items_page
from monitor.web.overview import RETRIED, overview
from monitor.web.params import BadParameter
from monitor.web.session import COOKIE, LOGIN_COOKIE, Session, Sessions, new_nonce
from monitor.web.source_page import source_json, source_page, source_url
from monitor.web.times import local
from monitor.web.trying import WINDOW, WINDOWS, BadRequest, Busy, Trials, as_json

JSON = "application/json"

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
# a trial refused while another runs: when to ask again (seconds; a trial takes BUDGET at most)
RETRY_AFTER = "5"
BUSY_HEADERS = {**HEADERS, "Retry-After": RETRY_AFTER}

Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
Answer = Callable[[web.Request], Awaitable[dict[str, Any] | None]]  # an API's body, None: 404


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
        self.trials = Trials()
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
        router.add_post("/retry", self._signed_in(self._retry))
        router.add_get("/sources/{name}", self._signed_in(self._source))
        router.add_get("/items", self._signed_in(self._items))
        router.add_get("/static/{name}", self._static)
        router.add_get("/rules/try", self._signed_in(self._try_form))
        router.add_post("/rules/try", self._signed_in(self._try))
        router.add_get("/api/sources", self._json_api(self._sources_body))
        router.add_post("/api/rules/try", self._api_try)
        router.add_get("/api/sources/{name}", self._json_api(self._source_body, "no such source"))
        router.add_get("/api/items", self._json_api(self._items_body))
        router.add_route("*", "/api/{tail:.*}", self._json_api(self._no_api))

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
        title: str | None = None,  # else the word of ``title_key``
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
            lang=lang, langs=language.LANGS, w=w, title=title or w[title_key], here_lang=here_lang,
            user=None if session is None else session.user, when=when, path=request.path,
            source_url=source_url,
            csrf=(csrf or "") if session is None else self.sessions.csrf(session.cookie),
            href=safe_href,
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

    def _json_api(self, answer: Answer, missing: str = "not found") -> Route:
        """A ``GET /api/*`` route: the asker checked (:meth:`_api_user`), then ``answer``'s
        body as JSON; a parameter it cannot take a 400 naming it, None a 404 saying
        ``missing``."""

        async def answered(request: web.Request) -> web.Response:
            user = await self._api_user(request)
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

    async def _retry(self, request: web.Request, session: Session) -> web.StreamResponse:
        """The banner's button: what `monitor retry` does for every configured subscriber (the
        store only, so any replica may answer), then back to the overview saying how many."""
        names = [subscriber.name for subscriber in self.config().subscribers]
        count = await requeue_dead(self.engine, names, self.clock())
        event("web-retry", user=session.user, digests=count)
        raise web.HTTPSeeOther("/?" + urlencode({RETRIED: count}))

    def _try_page(
        self, request: web.Request, session: Session, status: int = 200, **values: Any
    ) -> web.Response:
        config = self.config()
        values = {"text": "", "window": WINDOW, "trial": None, "refused": "", "rule": "", **values}
        return self.render(
            request, "rules_try.html.j2", "try_rules", status, session, windows=list(WINDOWS),
            retention=format_duration(config.retention.text),
            in_force=[rule.name for rule in config.rules], budget=f"{trying.BUDGET:g}", **values,
        )  # fmt: skip

    async def _try_form(self, request: web.Request, session: Session) -> web.StreamResponse:
        """The form, empty or (``?rule=NAME``) holding a rule in force to start from."""
        window = request.query.get("window", WINDOW)
        name = request.query.get("rule", "")
        rule = next((rule for rule in self.config().rules if rule.name == name), None)
        return self._try_page(
            request, session, window=window if window in WINDOWS else WINDOW,
            text="" if rule is None else rules_text([rule]), rule="" if rule is None else name,
        )  # fmt: skip

    async def _try(self, request: web.Request, session: Session) -> web.StreamResponse:
        form = await _form(request)  # (read once by the CSRF check: aiohttp keeps it)
        text, window = form.get("rules", ""), form.get("window", WINDOW)
        if not isinstance(text, str) or not isinstance(window, str):
            raise web.HTTPBadRequest()
        try:
            trial = await self.trials.run(self.engine, self.config(), text, window, self.clock())
        except BadRequest as exc:
            return self._try_page(request, session, 400, text=text, refused=str(exc))
        except Busy:
            lang, _ = language.chosen(request, self.config().language)
            refused = language.words(lang)["try_busy"]
            page = self._try_page(request, session, 503, text=text, window=window, refused=refused)
            page.headers["Retry-After"] = RETRY_AFTER
            return page
        status = 200 if not trial.errors else 422
        return self._try_page(request, session, status, text=text, window=window, trial=trial)

    async def _api_try(self, request: web.Request) -> web.Response:
        """``POST /api/rules/try``. Only a JSON body is taken (Content-Type application/json):
        a page of another site can send a cookie-carrying POST only as a form (urlencoded,
        multipart or text/plain); a JSON one needs a CORS preflight, which this server never
        grants. So a session's cookie cannot be used across sites to run a trial, with or
        without its SameSite=Lax, and the API needs no CSRF token (with HTTP Basic there is no
        cookie to forge with)."""
        user = await self._api_user(request)
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
            trial = await self.trials.run(self.engine, self.config(), text, window, self.clock())
        except BadRequest as exc:
            return web.json_response({"error": str(exc)}, status=400, headers=HEADERS)
        except Busy:
            error = {"error": "busy: another trial is running; try again when it is done"}
            return web.json_response(error, status=503, headers=BUSY_HEADERS)
        return web.json_response(as_json(trial), headers=HEADERS)

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
