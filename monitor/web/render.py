"""What every server-rendered page of the daemon has in common, whether the analysts' app
(monitor.web.pages) or the subscribers' own pages (monitor.web.signup) serve it: the Jinja2
templates (autoescaped), the language of the answer, local times, the guarding headers, and the
style sheet and icon under ``/static`` (served once, whichever groups of pages are on)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from monitor.config.model import Config
from monitor.digest.snippets import safe_href
from monitor.web import language
from monitor.web.guard import HEADERS
from monitor.web.source_page import source_url
from monitor.web.times import local

STATIC = {"app.css": "text/css", "icon.svg": "image/svg+xml"}


class Renderer:
    def __init__(self, config: Callable[[], Config]) -> None:
        self.config = config
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("monitor.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        folder = files("monitor.web") / "static"
        self.static_files = {name: (folder / name).read_bytes() for name in STATIC}

    def secure(self) -> bool:
        """Whether the public address is HTTPS (cookies are then ``Secure``)."""
        http = self.config().http
        return http is not None and (http.base_url or "").startswith("https://")

    def render(
        self,
        request: web.Request,
        template: str,
        title_key: str,
        status: int = 200,
        *,
        csrf: str = "",
        user: str | None = None,  # who is signed in to the app (None: an anonymous page)
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
            user=user, when=when, path=request.path, source_url=source_url, csrf=csrf,
            href=safe_href, home="/" if config.http is not None and config.http.app else "",
            **values,
        )  # fmt: skip
        response = web.Response(status=status, text=text, content_type="text/html", headers=HEADERS)
        if switched:
            response.set_cookie(
                language.COOKIE, lang, max_age=365 * 86400, path="/", samesite="Lax",
                httponly=True, secure=self.secure(),
            )  # fmt: skip
        return response

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        headers = {**HEADERS, "Cache-Control": "public, max-age=3600"}
        return web.Response(
            body=self.static_files[name], content_type=STATIC[name], headers=headers
        )
