"""Web origins on loopback that record the headers of every request, for the per-source HTTP
options (monitor.net.options): a site that wants a header, a user agent or basic auth, and
pages that redirect elsewhere."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>One</title><link>http://example.com/1</link><guid>1</guid></item>"
    b"</channel></rss>"
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass(frozen=True)
class Asked:
    path: str
    headers: dict[str, str]  # names lower-cased


Page = Callable[["Origin"], web.StreamResponse]


@dataclass
class Origin:
    """One origin (127.0.0.1 on its own port). ``wants`` are headers (lower-case names) every
    request must carry, else 401; ``pages`` map a path to what it answers (a feed by default)."""

    wants: Mapping[str, str] = field(default_factory=dict)
    pages: dict[str, Page] = field(default_factory=dict)
    asked: list[Asked] = field(default_factory=list)
    tls: ssl.SSLContext | None = None  # https, with this server context
    port: int = 0
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Origin:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._answer)
        self.runner = web.AppRunner(app, shutdown_timeout=1)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.tls)
        await site.start()
        self.port = self.runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    def headers_at(self, path: str) -> list[dict[str, str]]:
        return [asked.headers for asked in self.asked if asked.path == path]

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        headers = {name.lower(): value for name, value in request.headers.items()}
        self.asked.append(Asked(request.path, headers))
        if any(headers.get(name) != value for name, value in self.wants.items()):
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="r"'})
        page = self.pages.get(request.path)
        if page is not None:
            return page(self)
        return web.Response(body=RSS, content_type="application/rss+xml")


def redirect(to: str, status: int = 302) -> Page:
    """A page answering with a redirect to ``to``."""
    return lambda origin: web.Response(status=status, headers={"Location": to})


def html(body: str) -> Page:
    return lambda origin: web.Response(text=body, content_type="text/html")
