"""What a response says beyond its body: where a redirect points (and whether for good),
when a server asks to be polled again (Retry-After), the WebSub hub its Link header names, and
aiohttp's failures translated into monitor's errors (naming the host, never the URL)."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp
from yarl import URL

from monitor.core.errors import (
    FetchError,
    FetchTimeout,
    MonitorError,
    Unreachable,
)
from monitor.core.models import HubLink
from monitor.net.hubs import hub_link
from monitor.net.words import in_words, one_line

MAX_REDIRECTS = 10  # hops followed; the 11th redirect is an error


PERMANENT_REDIRECTS = frozenset({301, 308})


_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def redirected_to(resp: aiohttp.ClientResponse) -> str | None:
    """The absolute target of a redirect answer; None for any other."""
    location = resp.headers.get("Location")
    if resp.status not in _REDIRECTS or not location:
        return None
    return str(resp.url.join(URL(location)))


@contextmanager
def translated(url: str) -> Iterator[None]:
    """aiohttp's and asyncio's failures of a request to ``url`` as one FetchError. Not
    chained: aiohttp and yarl errors print the full URL (userinfo, ?token=…) in tracebacks;
    the translated message says what failed without it."""
    try:
        yield
    except MonitorError:
        raise
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
        raise translate(exc, host_of(url)) from None


def header_hub(resp: aiohttp.ClientResponse) -> HubLink | None:
    """The WebSub hub and topic the response's ``Link`` header names (WebSub §4: a subscriber
    looks there before the body)."""
    try:
        links = resp.links
    except ValueError:  # an unreadable header names nothing
        return None
    urls = {rel: [str(links[rel]["url"])] if rel in links else [] for rel in ("hub", "self")}
    return hub_link(urls["hub"], urls["self"], str(resp.url))


MAX_RETRY_AFTER = 7 * 86400  # seconds; the scheduler caps at a day, this only avoids overflow


def parse_retry_after(value: str | None, now: datetime | None = None) -> timedelta | None:
    """``Retry-After`` as a delay: delta-seconds or an HTTP-date; None when absent or invalid."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true too
        return timedelta(seconds=min(int(value), MAX_RETRY_AFTER))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delay = when - (now or datetime.now(UTC))
    return max(delay, timedelta(0))


def host_of(url: str | URL) -> str:
    """The host of a URL, for messages: never the userinfo, query or path."""
    try:
        return (URL(url) if isinstance(url, str) else url).host or "?"
    except (ValueError, TypeError):
        return "?"


def _proxy_failure(exc: BaseException, host: str) -> FetchError | None:
    """What failed with the proxy (not the site): it cannot be reached, or refused a tunnel."""
    if isinstance(exc, aiohttp.ClientProxyConnectionError):  # a ClientConnectorError
        said = in_words(exc, exc.host, exc.port) or _unknown(exc, host)
        return Unreachable(f"cannot connect to the proxy: {said}", "proxy " + _connect_failure(exc))
    if isinstance(exc, aiohttp.ClientHttpProxyError):  # a ClientResponseError
        reason = one_line(exc.message or "")
        return FetchError(f"{host}: the proxy refused to reach it ({exc.status} {reason})")
    return None


def _connect_failure(exc: aiohttp.ClientConnectorError) -> str:
    """Why no server answered, in the words of :class:`Unreachable`'s ``reason``."""
    error = exc.os_error
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(error, socket.gaierror):
        return "name resolution"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "no route"
    return "connection failed"


def translate(exc: BaseException, host: str) -> FetchError:
    """One short, secret-free FetchError for an aiohttp or asyncio failure."""
    return _proxy_failure(exc, host) or _failure(exc, host)


def _failure(exc: BaseException, host: str) -> FetchError:
    match exc:
        case TimeoutError():  # includes aiohttp's ServerTimeoutError and ConnectionTimeoutError
            return FetchTimeout(f"{host}: timed out")
        case aiohttp.TooManyRedirects():
            return FetchError(f"{host}: too many redirects (more than {MAX_REDIRECTS})")
        case aiohttp.ClientSSLError() | ssl.SSLError():  # (a certificate refused among them)
            port = getattr(exc, "port", None)
            return FetchError(
                in_words(exc, getattr(exc, "host", host), port) or _unknown(exc, host)
            )
        case aiohttp.ClientConnectorError():  # no server answered: said in words (net.words)
            return Unreachable(
                in_words(exc, exc.host, exc.port) or _unknown(exc, host), _connect_failure(exc)
            )
        case aiohttp.InvalidURL() | aiohttp.NonHttpUrlClientError():
            return FetchError(f"{host}: invalid or non-http URL (or redirect to one)")
        case aiohttp.ServerDisconnectedError():
            return FetchError(f"{host}: server closed the connection before answering")
        case aiohttp.ClientPayloadError():
            return FetchError(f"{host}: body could not be read (truncated or bad encoding)")
        case aiohttp.ClientResponseError():
            return FetchError(f"{host}: invalid HTTP response")
        case _:
            return FetchError(in_words(exc, host) or _unknown(exc, host))


def _unknown(exc: BaseException, host: str) -> str:
    return f"{host}: request failed ({type(exc).__name__})"
