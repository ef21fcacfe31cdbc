"""One request of the shared client, and the redirects of a GET followed hop by hop: the
source's credentials and custom headers stop at the first hop off its origin, and a request
handed to a proxy has its target judged by the address guard first (monitor.net.options)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

import aiohttp
from yarl import URL

from monitor.core.errors import FetchError, Unreachable
from monitor.net.guard import GuardedConnector
from monitor.net.options import ProxyRoutes, RequestOptions
from monitor.net.responses import (
    MAX_REDIRECTS,
    PERMANENT_REDIRECTS,
    host_of,
    redirected_to,
    translated,
)

PROXY_AUTH = "Proxy-Authorization"


class Hops:
    def __init__(self, session: Callable[[], aiohttp.ClientSession], routes: ProxyRoutes) -> None:
        self._session = session  # the client's, made on first use
        self._routes = routes

    @asynccontextmanager
    async def following(
        self, url: str, headers: Mapping[str, str], options: RequestOptions
    ) -> AsyncIterator[tuple[aiohttp.ClientResponse, bool]]:
        """The answer at the end of ``url``'s redirects, and whether every one was permanent.
        Followed here, not by aiohttp, so that the source's credentials and custom headers
        stop at the first hop off its origin (aiohttp would keep custom headers)."""
        first, hops, trusted, permanent = url, 0, True, True
        while True:
            with translated(url):
                here = URL(url)
                trusted = trusted and options.owns(here)  # once off the origin, never again
                async with self.hop("GET", here, headers, options, trusted) as resp:
                    target = redirected_to(resp)
                    if target is None:
                        yield resp, permanent and hops > 0
                        return
            hops += 1
            if hops > MAX_REDIRECTS:
                raise FetchError(
                    f"{host_of(first)}: too many redirects (more than {MAX_REDIRECTS})"
                )
            permanent = permanent and resp.status in PERMANENT_REDIRECTS
            url = target

    @asynccontextmanager
    async def hop(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        options: RequestOptions,
        trusted: bool,
        data: Mapping[str, str] | bytes | None = None,
        deadline: aiohttp.ClientTimeout | None = None,  # (default: the session's)
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One request, not following redirects, through the proxy its route names (the target
        judged by the address guard first: the connector only dials the proxy)."""
        proxy = self._routes.proxy_for(url, options)
        sent = {**headers, **options.headers_for(url, trusted)}
        to_proxy: dict[str, str] = {}
        if proxy is not None:
            await self._check_target(url)
            if proxy.login is not None:  # in the request itself, or in its CONNECT for https
                (to_proxy if url.scheme == "https" else sent)[PROXY_AUTH] = proxy.credentials
        session = self._session()
        async with session.request(
            method,
            url,
            headers=sent,
            data=data,
            allow_redirects=False,
            proxy=proxy.url if proxy else None,
            proxy_headers=to_proxy or None,
            timeout=deadline if deadline is not None else session.timeout,
        ) as resp:
            yield resp

    async def _check_target(self, url: URL) -> None:
        connector = self._session().connector
        assert isinstance(connector, GuardedConnector)
        host, port = url.raw_host, url.port
        if host is None or port is None:
            raise FetchError(f"{host_of(url)}: invalid or non-http URL (or redirect to one)")
        try:
            await connector.check_target(host, port)
        except OSError:  # (no server answered: counted by the first round's line)
            raise Unreachable(f"name {host} not found", "name resolution") from None
