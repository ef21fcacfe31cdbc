"""A small real HTTP forward proxy on loopback: it takes absolute-form requests
(``GET http://host:port/path HTTP/1.1``), forwards each on a new connection, tunnels
``CONNECT host:port`` (https), and records what it saw. Its own name map stands for the proxy's
DNS, which may differ from the client's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from yarl import URL


@dataclass(frozen=True)
class Seen:
    """One request as the proxy received it."""

    method: str
    target: str  # the absolute URL asked for
    headers: dict[str, str]  # names lower-cased


@dataclass
class ForwardProxy:
    names: Mapping[str, str] = field(default_factory=dict)  # host -> address it dials
    credentials: str | None = None  # a Proxy-Authorization value required, else 407
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ForwardProxy:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            await self._forward(head.decode("latin-1"), reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _forward(
        self, head: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        request_line, *lines = head.split("\r\n")
        method, target, _ = request_line.split(" ", 2)
        headers = {}
        for line in filter(None, lines):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.seen.append(Seen(method, target, headers))
        if self.credentials is not None and headers.get("proxy-authorization") != self.credentials:
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
            writer.write(b'Proxy-Authenticate: Basic realm="p"\r\nContent-Length: 0\r\n\r\n')
            await writer.drain()
            return
        if method == "CONNECT":
            await self._tunnel(target, reader, writer)
            return
        url = URL(target)
        assert url.host is not None and url.port is not None, target  # absolute-form only
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        upstream_reader, upstream = await asyncio.open_connection(
            self.names.get(url.host, url.host), url.port
        )
        kept = {k: v for k, v in headers.items() if not k.startswith("proxy-")}
        kept["connection"] = "close"
        out = f"{method} {url.raw_path_qs} HTTP/1.1\r\n"
        out += "".join(f"{name}: {value}\r\n" for name, value in kept.items()) + "\r\n"
        upstream.write(out.encode("latin-1") + body)
        await upstream.drain()
        # the answer, as it comes, until the origin closes (connection: close)
        while chunk := await upstream_reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        upstream.close()

    async def _tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, _, port = target.rpartition(":")
        upstream_reader, upstream = await asyncio.open_connection(
            self.names.get(host, host), int(port)
        )
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, upstream), _pipe(upstream_reader, writer))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except ConnectionError:
        pass
    finally:
        sink.close()
