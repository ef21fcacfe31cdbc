"""The demo's news site on loopback: each outlet's feed, answering conditional GETs as a CMS
does, an article page per post, and a new post published on each call to :meth:`publish`."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from aiohttp import web

from monitor.demo.feeds import OUTLETS, Headline, Outlet, Post, load_headlines, slug

KEPT = 10  # posts in a feed (WordPress's default)
STARTED_AGO = timedelta(minutes=45)  # the posts already out when the demo starts, this recent


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class NewsSite:
    """Serves ``outlets`` on 127.0.0.1 (a free port); ``publish`` posts the next headline,
    cycling through them: first those marked ``start`` (already out at the start), then the
    others, then all again as new posts."""

    def __init__(
        self,
        headlines: Sequence[Headline] | None = None,
        outlets: Sequence[Outlet] = OUTLETS,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.headlines = list(load_headlines() if headlines is None else headlines)
        self.outlets = {outlet.name: outlet for outlet in outlets}
        self.clock = clock
        self.posts: dict[str, list[Post]] = {name: [] for name in self.outlets}  # newest first
        self.pages: dict[str, Post] = {}
        self.numbers = itertools.count(1001)
        self.slugs: set[str] = set()
        self._next = self._order()
        self.url = ""
        self._runner: web.AppRunner | None = None

    def _order(self) -> Iterator[Headline]:
        later = [h for h in self.headlines if not h.start]
        yield from later
        while True:  # the second round on: every headline, as a new post
            yield from self.headlines

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        now = self.clock()
        first = [h for h in self.headlines if h.start]
        for age, headline in zip(range(len(first), 0, -1), first, strict=True):
            self._post(headline, now - STARTED_AGO * age / len(first))
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def publish(self) -> Post:
        return self._post(next(self._next), self.clock())

    def _post(self, headline: Headline, published: datetime) -> Post:
        outlet = self.outlets[headline.feed]
        number = next(self.numbers)
        name = first = slug(headline.title)
        for again in itertools.count(2):  # published again: "-2", as WordPress does
            if not name or name not in self.slugs:
                break
            name = f"{first}-{again}"
        self.slugs.add(name)
        post = Post(headline, number, published, outlet.post_path(number, published, name))
        self.posts[outlet.name].insert(0, post)
        del self.posts[outlet.name][KEPT:]
        self.pages[post.path] = post
        return post

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        path = request.path_qs
        for outlet in self.outlets.values():
            if path == outlet.feed_path:
                return self._feed(request, outlet)
        post = self.pages.get(path)
        if post is None:
            return web.Response(status=404, text="not found")
        outlet = self.outlets[post.headline.feed]
        direction = "rtl" if outlet.language == "ar" else "ltr"
        page = (
            f'<!doctype html><html lang="{outlet.language}" dir="{direction}"><meta '
            f'charset="utf-8"><title>{escape(post.headline.title)}</title><h1>'
            f"{escape(post.headline.title)}</h1><p>{escape(post.headline.summary)}</p></html>"
        )
        return web.Response(text=page, content_type="text/html")

    def _feed(self, request: web.Request, outlet: Outlet) -> web.Response:
        posts = self.posts[outlet.name]
        body = outlet.render(outlet, self.url, posts, self.clock()).encode()
        etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20] + '"'
        headers = {"ETag": etag}
        if posts:
            headers["Last-Modified"] = format_datetime(posts[0].published, usegmt=True)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        atom = outlet.feed_path.endswith(".xml")
        kind = "application/atom+xml" if atom else "application/rss+xml"
        return web.Response(body=body, headers=headers, content_type=kind, charset="UTF-8")
