"""The sign-up pages (monitor.web.signup) served for real on loopback, as the daemon serves
them without the analysts' app: a migrated store, the keys it keeps, a fake clock, and a real
SMTP peer (aiosmtpd) that receives the confirmation emails."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.store import open_engine
from monitor.store.standing import Unsubscription
from monitor.web.server import WebServer
from monitor.web.session import load_web_key
from monitor.web.signup import SignupRoutes
from monitor.web.unsubscribe import TokenClaim, load_key
from tests.support.peers import FakeClock, SmtpSink

BASE = "http://veille.example.ma"  # (https would make the cookies Secure: not sent over loopback)
HOSTILE = "<img src=x onerror=alert(1)>"
_LINK = re.compile(re.escape(BASE) + r"(/\S+)")


def signup_config(
    smtp_port: int,
    subscribers: list[dict[str, Any]] | None = None,
    trusted: list[str] | None = None,
    description: str = f"Les modèles et leurs usages {HOSTILE}",
) -> Config:
    return Config.model_validate({
        "sources": [{"name": "a", "url": "https://a.ma/feed"}],
        "rules": [
            {"name": "ia", "any": ["IA"], "label": "Intelligence artificielle",
             "description": description},
            {"name": "demarchage", "any": ["démarchage"], "label": "Démarchage"},
            {"name": "interne", "any": ["confidentiel"]},  # not offered
        ],
        "subscribers": subscribers or [{"name": "analyste", "email": "analyste@example.ma"}],
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none",
                 "from": "Veille <veille@example.ma>"},
        "http": {"listen": "127.0.0.1:0", "base_url": BASE,
                 "signup": {"rules": ["ia", "demarchage"]}, "trusted_proxies": trusted or []},
    })  # fmt: skip


@dataclass
class SignupServed:
    url: str
    clock: FakeClock
    engine: AsyncEngine
    routes: SignupRoutes
    holder: list[Config]
    sink: SmtpSink
    token_key: bytes

    def client(self) -> aiohttp.ClientSession:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        return aiohttp.ClientSession(self.url, cookie_jar=jar)

    async def mails(self) -> list[str]:
        """The bodies of the emails received so far (once those being sent went)."""
        await self.routes.settled()
        return [str(m.get_body(("plain",)).get_content()) for m in self.sink.messages]  # type: ignore[union-attr]


def link_in(body: str) -> str:
    """The path of the link an email carries."""
    found = _LINK.search(body)
    assert found is not None, body
    return found[1]


@asynccontextmanager
async def serve_signup(
    tmp_path: Path,
    clock: FakeClock,
    storage: str | None = None,
    replies: list[str] | None = None,  # the SMTP peer's answers to the first messages
    refusals: list[str] | None = None,  # its answers to the first recipients
    **options: Any,  # signup_config's
) -> AsyncIterator[SignupServed]:
    sink = SmtpSink(replies, refusals)
    port = sink.start()
    engine = await open_engine(storage or f"sqlite:///{tmp_path}/monitor.db")
    holder = [signup_config(port, **options)]

    def current() -> Config:
        return holder[0]

    token_key = await load_key(engine)
    routes = SignupRoutes(current, engine, await load_web_key(engine), token_key, clock)

    async def unsubscribe(claim: TokenClaim) -> Unsubscription:
        return Unsubscription.UNKNOWN

    server = WebServer(token_key, unsubscribe, clock, "127.0.0.1", 0, signup=routes)
    bound = await server.start()
    try:
        yield SignupServed(
            f"http://127.0.0.1:{bound}", clock, engine, routes, holder, sink, token_key
        )
    finally:
        await server.close()
        await routes.settled()
        await engine.dispose()
        sink.stop()
