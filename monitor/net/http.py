"""The one shared HTTP client: limits, a total deadline, a decoded-size cap, conditional GET,
the address guard on every hop, and aiohttp errors translated into monitor.core.errors here.

"Not modified" is a return value (:class:`NotModified`), never an exception.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from monitor import __version__
from monitor.core.errors import (
    FetchError,
    HTTPStatusError,
    ResponseTooLarge,
)
from monitor.core.models import Fetched
from monitor.net.guard import GuardedConnector, Network
from monitor.net.hops import Hops
from monitor.net.options import NO_OPTIONS, ProxyRoutes, RequestOptions
from monitor.net.responses import (
    MAX_REDIRECTS,
    header_hub,
    host_of,
    parse_retry_after,
    redirected_to,
    translated,
)
from monitor.net.words import one_line


class NetworkSettings(Protocol):
    """What the client reads of its settings: the configuration's ``network:`` section
    (monitor.config.sections.NetworkConfig) is one; the layer above hands it in."""

    @property
    def allow(self) -> Sequence[Network]: ...
    @property
    def timeout(self) -> timedelta: ...
    @property
    def connect_timeout(self) -> timedelta: ...
    @property
    def max_bytes(self) -> int: ...
    @property
    def concurrency(self) -> int: ...
    @property
    def per_host(self) -> int: ...
    @property
    def user_agent(self) -> str | None: ...
    @property
    def proxy(self) -> str | None: ...
    @property
    def no_proxy(self) -> Sequence[str]: ...


DEFAULT_USER_AGENT = f"monitor/{__version__} (+https://github.com/monitor)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json, "
    "application/xml, text/xml, */*;q=0.1"
)
_CHUNK = 64 * 1024
_ANSWER_KEPT = 200  # characters of a form's answer kept for messages


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last successful fetch returned, sent back for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


_NO_VALIDATORS = Validators()


@dataclass(frozen=True, slots=True)
class NotModified:
    url: str
    permanent_redirect: str | None = None  # see Fetched


class HttpClient:
    """One aiohttp session for the whole process (feeds and webhooks share its guard)."""

    def __init__(
        self,
        network: NetworkSettings,
        *,
        user_agent: str | None = None,
        resolver: AbstractResolver | None = None,  # tests map names to loopback
        ssl_context: ssl.SSLContext | None = None,  # tests trust their own CA; None: system CAs
        clock: Callable[[], datetime] | None = None,  # "now" for a Retry-After HTTP-date
    ) -> None:
        self._network = network
        self._clock = clock
        self._ssl_context = ssl_context
        self._user_agent = user_agent or network.user_agent or DEFAULT_USER_AGENT
        self._resolver = resolver
        self._hops = Hops(lambda: self.session, ProxyRoutes.of(network.proxy, network.no_proxy))
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def __aenter__(self) -> HttpClient:
        _ = self.session
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The guarded session, created on first use inside the running loop."""
        if self._closed:
            raise RuntimeError("HttpClient is closed")
        if self._session is None:
            self._session = self._new_session()
        return self._session

    def _new_session(self) -> aiohttp.ClientSession:
        network = self._network
        connector = GuardedConnector(
            allow=network.allow,
            limit=network.concurrency,
            limit_per_host=network.per_host,
            resolver=self._resolver,
            ssl=self._ssl_context or True,  # always verified: no per-call override, no fallback
        )
        # A total deadline: sock_read alone lets a server drip one byte a second forever.
        # `connect` is left unset because it also counts the wait for a free pool slot.
        timeout = aiohttp.ClientTimeout(
            total=network.timeout.total_seconds(),
            sock_connect=network.connect_timeout.total_seconds(),
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=timeout,
            headers={
                "User-Agent": self._user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            cookie_jar=aiohttp.DummyCookieJar(),  # no state shared between sources
            trust_env=False,  # no proxy from the environment bypassing the guard
            auto_decompress=True,
        )

    async def fetch(
        self,
        url: str,
        validators: Validators = _NO_VALIDATORS,
        options: RequestOptions = NO_OPTIONS,
    ) -> Fetched | NotModified:
        """GET ``url`` following redirects; a 304 to a conditional GET is :class:`NotModified`.
        ``options``: the source's headers, credentials and proxy (monitor.net.options)."""
        headers: dict[str, str] = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        async with self._hops.following(url, headers, options) as (resp, permanent):
            return await self._answer(resp, conditional=bool(headers), permanent=permanent)

    async def get(self, url: str, options: RequestOptions = NO_OPTIONS) -> Fetched:
        """:meth:`fetch` without validators: the body (a 304 is then an HTTPStatusError)."""
        fetched = await self.fetch(url, options=options)
        assert isinstance(fetched, Fetched)  # NotModified answers conditional requests only
        return fetched

    async def redirect_target(self, url: str, options: RequestOptions = NO_OPTIONS) -> str | None:
        """Where ``url`` redirects to (its ``Location``, made absolute) when it answers with a
        redirect; None when it answers anything else. Nothing is followed, no body read."""
        with translated(url):
            here = URL(url)
            async with self._hops.hop("GET", here, {}, options, options.owns(here)) as resp:
                return redirected_to(resp)

    @asynccontextmanager
    async def send(
        self,
        method: str,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        deadline: aiohttp.ClientTimeout,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One request with ``body`` (a webhook's), no redirect followed, through
        ``network.proxy`` unless ``no_proxy`` names its host; errors are aiohttp's, untranslated
        (the caller says them in its own words)."""
        async with self._hops.hop(
            method, URL(url), headers, NO_OPTIONS, False, body, deadline
        ) as resp:
            yield resp

    async def post_form(self, url: str, form: Mapping[str, str]) -> tuple[int, str]:
        """POST a form (a request to a WebSub hub): the answer's status and the start of its
        text, printable, for a message. A redirect is followed by posting the form again at
        its target (aiohttp would follow a 301 or 302 with a GET and no form)."""
        for _ in range(MAX_REDIRECTS + 1):
            with translated(url):
                async with self._hops.hop(
                    "POST", URL(url), {}, NO_OPTIONS, False, dict(form)
                ) as resp:
                    target = redirected_to(resp)
                    if target is None:
                        start = await resp.content.read(_ANSWER_KEPT)
                        text = start.decode("utf-8", "replace")
                        return resp.status, one_line(text, _ANSWER_KEPT)
            url = target
        raise FetchError(f"{host_of(url)}: too many redirects (more than {MAX_REDIRECTS})")

    async def _answer(
        self, resp: aiohttp.ClientResponse, *, conditional: bool, permanent: bool
    ) -> Fetched | NotModified:
        moved = str(resp.url) if permanent else None  # see Fetched.permanent_redirect
        if resp.status == 304 and conditional:
            return NotModified(url=str(resp.url), permanent_redirect=moved)
        if resp.status == 407:  # only a proxy asks for its credentials: not the site's error
            reason = one_line(resp.reason or "")
            raise FetchError(f"{host_of(resp.url)}: the proxy refused to reach it (407 {reason})")
        if not 200 <= resp.status < 300:
            reason = one_line(resp.reason or "")
            raise HTTPStatusError(
                resp.status,
                f"{host_of(resp.url)} answered {resp.status}{' ' + reason if reason else ''}",
                parse_retry_after(
                    resp.headers.get("Retry-After"), self._clock() if self._clock else None
                ),
            )
        body = await self._read_capped(resp)
        return Fetched(
            url=str(resp.url),
            status=resp.status,
            body=body,
            content_type=resp.headers.get("Content-Type"),
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
            permanent_redirect=moved,
            hub=header_hub(resp) if "Link" in resp.headers else None,
        )

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        """The decoded body, refused as soon as it passes max_bytes (a gzip bomb stops early)."""
        limit = self._network.max_bytes
        declared = resp.headers.get("Content-Length", "")
        encoded = resp.headers.get("Content-Encoding", "identity").lower() != "identity"
        body = None
        if encoded or not declared.isdigit() or int(declared) <= limit:
            body = await read_capped(resp.content, limit)
        if body is None:  # (the message only then: the host is parsed for it)
            raise ResponseTooLarge(
                f"{host_of(resp.url)}: body larger than {limit} bytes (network.max_bytes)"
            )
        return body


async def read_capped(stream: aiohttp.StreamReader, limit: int) -> bytes | None:
    """The whole of ``stream`` (a response's or a request's body), or None as soon as it
    passes ``limit`` bytes."""
    chunks: list[bytes] = []
    total = 0
    async for chunk in stream.iter_chunked(_CHUNK):
        total += len(chunk)
        if total > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
