"""The analysts' web app served for real on loopback: a migrated SQLite store, the daemon's
WebServer with AppRoutes, a fake clock, and users whose hashes are cheap argon2id lines (the
same format `monitor password` prints, at a test's cost)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.store import open_engine
from monitor.store.standing import Unsubscription
from monitor.web.feeds import FeedRoutes
from monitor.web.pages import AppRoutes
from monitor.web.server import WebServer
from monitor.web.session import load_web_key
from monitor.web.unsubscribe import TokenClaim
from tests.support.peers import FakeClock

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
USERS = {"analyste": "mot de passe 1", "relecteur": "autre-secret"}
# what the overview costs the store, whatever the number of sources and subscribers: a page of
# sources and their new items per day, the banner's two counts and first broken sources, a page
# of subscribers' standing and their counts
QUERIES = 7
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def app_config(
    sources: list[dict[str, Any]] | None = None,
    base_url: str | None = None,
    session: str = "12h",
    subscribers: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> Config:
    users = [{"name": n, "password": CHEAP.hash(p)} for n, p in USERS.items()]
    http: dict[str, Any] = {"listen": "127.0.0.1:0", "app": {"session": session, "users": users}}
    if base_url is not None:
        http["base_url"] = base_url
    return Config.model_validate({
        "sources": sources or [{"name": "a", "url": "https://a.ma/feed"}],
        "rules": rules or [{"name": "ia", "any": ["IA"]}],
        "subscribers": subscribers or [{"name": "s", "console": True}],
        "http": http,
    })  # fmt: skip


@dataclass
class Served:
    url: str
    clock: FakeClock
    engine: AsyncEngine
    routes: AppRoutes
    holder: list[Config]  # the configuration in force: [0]

    def client(self) -> aiohttp.ClientSession:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        return aiohttp.ClientSession(self.url, cookie_jar=jar)


@asynccontextmanager
async def serve_app(
    tmp_path: Path, config: Config, clock: FakeClock, storage: str | None = None
) -> AsyncIterator[Served]:
    """The app on loopback over ``storage`` (a store URL, such as the ``storage`` fixture's for
    each backend; by default a SQLite file in ``tmp_path``)."""
    engine = await open_engine(storage or f"sqlite:///{tmp_path}/monitor.db")
    holder = [config]

    def current() -> Config:
        return holder[0]

    routes = AppRoutes(current, engine, await load_web_key(engine), clock)

    async def unsubscribe(claim: TokenClaim) -> Unsubscription:
        return Unsubscription.UNKNOWN

    # (as the daemon serves them: the rules' Atom feeds beside the app)
    feeds = FeedRoutes(engine, current)
    server = WebServer(b"k" * 32, unsubscribe, clock, "127.0.0.1", 0, feeds=feeds, pages=routes)
    port = await server.start()
    try:
        yield Served(f"http://127.0.0.1:{port}", clock, engine, routes, holder)
    finally:
        await server.close()
        await engine.dispose()


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found is not None, page
    return found[1]


async def log_in(
    client: aiohttp.ClientSession, name: str, password: str, next_path: str = "/"
) -> aiohttp.ClientResponse:
    async with client.get("/login") as form:
        token = csrf_of(await form.text())
    data = {"csrf": token, "name": name, "password": password, "next": next_path}
    async with client.post("/login", data=data, allow_redirects=False) as answer:
        await answer.read()
        return answer


def push_lease(source: str, callback: str, now: datetime, **values: Any) -> dict[str, Any]:
    """A row of push_subscriptions: a hub delivering ``source`` at ``now`` unless ``values``
    say otherwise (a lease over, a quiet hub)."""
    return {"callback": callback, "source": source, "hub": "https://hub.ma/",
            "topic": f"https://{source}.ma/feed", "secret": "s", "wanted": True,
            "renew_at": now + timedelta(days=1), "attempts": 0,
            "lease_until": now + timedelta(days=2), "quiet_since": None, **values}  # fmt: skip
