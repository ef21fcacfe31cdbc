"""The shared HTTP client against a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import traceback
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest
from aiohttp import web

from monitor.config.sections import NetworkConfig
from monitor.core.errors import (
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    ResponseTooLarge,
    Unreachable,
)
from monitor.core.models import Fetched
from monitor.net.http import HttpClient, NotModified, Validators
from monitor.net.responses import parse_retry_after
from tests.support.net import StaticResolver
from tests.support.paths import DATA

FEEDS = DATA / "feeds"
RSS = (FEEDS / "rss20.xml").read_bytes()
ETAG = '"v1"'
LAST_MODIFIED = "Thu, 26 Nov 2026 07:12:03 GMT"
MB = 1024 * 1024


def network(**overrides: object) -> NetworkConfig:
    values: dict[str, object] = {"allow": ["127.0.0.0/8"], "timeout": "10s", "max_bytes": MB}
    return NetworkConfig.model_validate(values | overrides)


@cache
def gzip_bomb() -> bytes:
    """50 MB of zeros, gzip-compressed to about 50 KB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MB)
    return b"".join(packer.compress(zeros) for _ in range(50)) + packer.flush()


class FeedServer:
    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.stop = asyncio.Event()
        self.app = web.Application()
        routes = {
            "/feed": self.feed,
            "/always-304": self.always_304,
            "/gzip": self.gzipped,
            "/big": self.big,
            "/chunked": self.chunked,
            "/bomb": self.bomb,
            "/drip": self.drip,
            "/silent": self.silent,
            "/loop": self.loop,
            "/redirect/{n}": self.redirect,
            "/hops/{codes}": self.hops,
            "/status/{code}": self.status,
        }
        for path, handler in routes.items():
            self.app.router.add_get(path, handler)
        self.runner = web.AppRunner(self.app, shutdown_timeout=1)
        self.url = ""

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def close(self) -> None:
        self.stop.set()
        await self.runner.cleanup()

    async def feed(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        if request.headers.get("If-None-Match") == ETAG or (
            request.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            return web.Response(status=304, headers={"ETag": ETAG})
        headers = {"ETag": ETAG, "Last-Modified": LAST_MODIFIED}
        return web.Response(
            body=RSS, content_type="application/rss+xml", charset="utf-8", headers=headers
        )

    async def always_304(self, request: web.Request) -> web.Response:
        return web.Response(status=304)

    async def gzipped(self, request: web.Request) -> web.Response:
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        return web.Response(body=gzip.compress(RSS), headers=headers)

    async def big(self, request: web.Request) -> web.Response:
        return web.Response(body=b"x" * (2 * MB), content_type="application/xml")

    async def chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(64):  # 4 MB in 64 KB chunks, no Content-Length
                await response.write(b"y" * (64 * 1024))
        except ConnectionError:
            pass
        return response

    async def bomb(self, request: web.Request) -> web.Response:
        headers = {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        return web.Response(body=gzip_bomb(), headers=headers)

    async def drip(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/xml"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            while not self.stop.is_set():  # one byte every 50 ms, forever
                await response.write(b" ")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), 0.05)
        except ConnectionError:
            pass
        return response

    async def silent(self, request: web.Request) -> web.Response:
        await self.stop.wait()  # accepts the request and never answers
        return web.Response()

    async def loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def redirect(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound("/feed" if n <= 0 else f"/redirect/{n - 1}")

    async def hops(self, request: web.Request) -> web.Response:
        """``/hops/301,302`` answers 301 to ``/hops/302``, which answers 302 to ``/feed``."""
        first, _, rest = request.match_info["codes"].partition(",")
        target = f"/hops/{rest}" if rest else "/feed"
        return web.Response(status=int(first), headers={"Location": target})

    async def status(self, request: web.Request) -> web.Response:
        headers = {}
        if "retry" in request.query:
            headers["Retry-After"] = request.query["retry"]
        return web.Response(status=int(request.match_info["code"]), headers=headers)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    feeds = FeedServer()
    await feeds.start()
    yield feeds
    await feeds.close()


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    async with HttpClient(network()) as client:
        yield client


async def test_fetch_returns_the_body_and_its_validators(
    server: FeedServer, http: HttpClient
) -> None:
    fetched = await http.fetch(server.url + "/feed")
    assert isinstance(fetched, Fetched)
    assert (fetched.status, fetched.body, fetched.etag) == (200, RSS, ETAG)
    assert fetched.last_modified == LAST_MODIFIED
    assert fetched.content_type == "application/rss+xml; charset=utf-8"
    headers = server.requests[0].headers
    assert headers["User-Agent"].startswith("monitor/")
    assert "application/rss+xml" in headers["Accept"]
    assert "application/feed+json" in headers["Accept"]
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert "If-None-Match" not in headers


@pytest.mark.parametrize(
    "validators",
    [Validators(etag=ETAG), Validators(last_modified=LAST_MODIFIED), Validators(ETAG, "x")],
)
async def test_a_conditional_get_answered_304_is_not_modified(
    server: FeedServer, http: HttpClient, validators: Validators
) -> None:
    result = await http.fetch(server.url + "/feed", validators)
    assert result == NotModified(url=server.url + "/feed")
    sent = server.requests[0].headers
    assert sent.get("If-None-Match") == validators.etag
    assert sent.get("If-Modified-Since") == validators.last_modified


async def test_stale_validators_get_the_new_body(server: FeedServer, http: HttpClient) -> None:
    result = await http.fetch(server.url + "/feed", Validators('"v0"', "Mon, 1 Jan 2024"))
    assert isinstance(result, Fetched) and result.body == RSS


async def test_a_304_without_validators_is_an_error(server: FeedServer, http: HttpClient) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        await http.fetch(server.url + "/always-304")
    assert caught.value.status == 304


@pytest.mark.parametrize(
    ("codes", "permanent"),
    [
        ("301", True),
        ("308", True),
        ("301,308,301", True),
        ("302", False),
        ("303", False),
        ("307", False),
        ("301,302", False),
        ("307,308", False),
    ],
)
async def test_permanent_redirect_only_when_every_hop_is_301_or_308(
    server: FeedServer, http: HttpClient, codes: str, permanent: bool
) -> None:
    fetched = await http.fetch(f"{server.url}/hops/{codes}")
    assert isinstance(fetched, Fetched) and fetched.body == RSS
    assert fetched.url == server.url + "/feed"
    assert fetched.permanent_redirect == (server.url + "/feed" if permanent else None)


async def test_no_redirect_is_no_permanent_redirect(server: FeedServer, http: HttpClient) -> None:
    fetched = await http.fetch(server.url + "/feed")
    assert isinstance(fetched, Fetched) and fetched.permanent_redirect is None


@pytest.mark.parametrize(("codes", "permanent"), [("301", True), ("308,301", True), ("302", False)])
async def test_a_304_after_redirects_reports_them_too(
    server: FeedServer, http: HttpClient, codes: str, permanent: bool
) -> None:
    result = await http.fetch(f"{server.url}/hops/{codes}", Validators(etag=ETAG))
    target = server.url + "/feed"
    assert result == NotModified(url=target, permanent_redirect=target if permanent else None)


async def test_gzip_bodies_are_decoded(server: FeedServer, http: HttpClient) -> None:
    fetched = await http.fetch(server.url + "/gzip")
    assert isinstance(fetched, Fetched) and fetched.body == RSS


@pytest.mark.parametrize("path", ["/big", "/chunked", "/bomb"])
async def test_bodies_past_max_bytes_are_refused(
    server: FeedServer, http: HttpClient, path: str
) -> None:
    with pytest.raises(ResponseTooLarge, match="larger than 1048576 bytes"):
        await http.fetch(server.url + path)


async def test_max_bytes_counts_decoded_bytes_not_wire_bytes(server: FeedServer) -> None:
    assert len(gzip_bomb()) < MB  # small on the wire, 50 MB decoded
    async with HttpClient(network(max_bytes=60 * MB)) as roomy:
        fetched = await roomy.fetch(server.url + "/bomb")
    assert isinstance(fetched, Fetched) and len(fetched.body) == 50 * MB


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/drip", "/silent"])
async def test_the_total_deadline_cuts_slow_servers(server: FeedServer, path: str) -> None:
    async with HttpClient(network(timeout=timedelta(milliseconds=500))) as http:
        with pytest.raises(FetchTimeout, match=r"127\.0\.0\.1: timed out"):
            await http.fetch(server.url + path)


async def test_redirects_are_followed_up_to_ten(server: FeedServer, http: HttpClient) -> None:
    fetched = await http.fetch(server.url + "/redirect/9")  # 10 redirects in all
    assert isinstance(fetched, Fetched)
    assert fetched.url == server.url + "/feed" and fetched.body == RSS
    with pytest.raises(FetchError, match="too many redirects"):
        await http.fetch(server.url + "/redirect/10")


async def test_a_redirect_loop_is_an_error(server: FeedServer, http: HttpClient) -> None:
    with pytest.raises(FetchError, match="too many redirects"):
        await http.fetch(server.url + "/loop")


@pytest.mark.parametrize(
    ("code", "retry", "expected"),
    [
        (404, None, None),
        (410, None, None),
        (500, None, None),
        (429, "120", timedelta(seconds=120)),
        (503, "Sun, 06 Nov 1994 08:49:37 GMT", timedelta(0)),  # in the past: now
        (429, "soon", None),
    ],
)
async def test_error_statuses_raise_with_retry_after(
    server: FeedServer,
    http: HttpClient,
    code: int,
    retry: str | None,
    expected: timedelta | None,
) -> None:
    query = f"?retry={retry}" if retry else ""
    with pytest.raises(HTTPStatusError) as caught:
        await http.fetch(f"{server.url}/status/{code}{query}")
    assert caught.value.status == code
    assert caught.value.retry_after == expected
    assert str(caught.value).startswith(f"127.0.0.1 answered {code}")


async def test_retry_after_as_a_future_http_date(server: FeedServer, http: HttpClient) -> None:
    with pytest.raises(HTTPStatusError) as caught:
        await http.fetch(f"{server.url}/status/429?retry=Fri, 31 Dec 2100 23:59:59 GMT")
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > timedelta(days=365 * 50)


async def test_a_retry_after_date_is_read_against_the_clients_clock(server: FeedServer) -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    async with HttpClient(network(), clock=lambda: now) as http:
        with pytest.raises(HTTPStatusError) as caught:
            await http.fetch(f"{server.url}/status/503?retry=Thu, 26 Nov 2026 11:00:00 GMT")
    assert caught.value.retry_after == timedelta(hours=2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("0", timedelta(0)),
        ("3600", timedelta(hours=1)),
        ("Thu, 26 Nov 2026 09:02:00 GMT", timedelta(minutes=2)),
        ("Thu, 26 Nov 2026 08:00:00 GMT", timedelta(0)),
        ("-5", None),
        ("tomorrow", None),
        ("\u00b2", None),  # a superscript two: isdigit() but not a number
        ("9" * 40, timedelta(days=7)),  # no overflow; the scheduler caps at a day
    ],
)
def test_parse_retry_after(value: str | None, expected: timedelta | None) -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


@pytest.mark.parametrize("path", ["/status/404", "/loop", "/redirect/20"])
async def test_errors_and_their_tracebacks_never_carry_userinfo_or_query(
    server: FeedServer, http: HttpClient, path: str
) -> None:
    url = server.url.replace("http://", "http://alice:s3cret@") + path + "?token=abc"
    with pytest.raises(FetchError) as caught:
        await http.fetch(url)
    shown = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    for secret in ("s3cret", "token", "alice"):
        assert secret not in shown


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused_names_host_and_port(http: HttpClient) -> None:
    port = free_port()
    refused = rf"^connection refused by 127\.0\.0\.1:{port}$"
    with pytest.raises(Unreachable, match=refused) as caught:
        await http.fetch(f"http://127.0.0.1:{port}/feed")
    assert caught.value.reason == "connection refused"  # no server answered (monitor.poll.reach)


async def test_an_unknown_host_is_a_dns_error() -> None:
    async with HttpClient(network(), resolver=StaticResolver({})) as http:
        with pytest.raises(Unreachable, match=r"^name nowhere\.test not found$") as caught:
            await http.fetch("http://nowhere.test/feed")
    assert caught.value.reason == "name resolution"


async def test_the_session_is_shared_and_closed(server: FeedServer) -> None:
    client = HttpClient(network())
    async with client:
        session = client.session
        assert client.session is session
        await client.fetch(server.url + "/feed")
    assert session.closed
    with pytest.raises(RuntimeError, match="closed"):
        _ = client.session
