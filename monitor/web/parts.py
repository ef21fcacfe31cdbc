"""What the app's route groups (monitor.web.login, monitor.web.try_routes) use of the app
(monitor.web.pages.AppRoutes), as a protocol so they need not import it (no import cycle)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.sections import AppConfig
from monitor.web.access import Access
from monitor.web.session import Session, Sessions
from monitor.web.trying import Trials


class AppParts(Protocol):
    config: Callable[[], Config]
    engine: AsyncEngine
    clock: Callable[[], datetime]
    sessions: Sessions
    access: Access
    trials: Trials

    def app_config(self) -> AppConfig | None: ...

    def hashes(self, app: AppConfig) -> dict[str, str]: ...

    def secure(self) -> bool: ...

    def session(self, request: web.Request) -> Session | None: ...

    async def api_user(self, request: web.Request) -> str | web.Response: ...

    def render(
        self,
        request: web.Request,
        template: str,
        title_key: str,
        status: int = 200,
        session: Session | None = None,
        csrf: str | None = None,
        title: str | None = None,
        **values: Any,
    ) -> web.Response: ...
