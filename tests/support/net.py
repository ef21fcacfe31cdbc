"""Loopback peers for the address guard and the HTTP client: a resolver answering chosen
addresses and a listener that records what connects."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver, ResolveResult

RSS = b'<rss version="2.0"><channel><title>t</title></channel></rss>'


class StaticResolver(AbstractResolver):
    """Maps names to fixed addresses, like a DNS answer we control; unknown names fail."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = dict(names)
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        address = self.names[host]
        af = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [ResolveResult(hostname=host, host=address, port=port, family=af, proto=0, flags=0)]

    async def close(self) -> None:
        return None


@dataclass
class Listener:
    """A raw TCP server counting accepted connections; answers any request with a tiny feed."""

    host: str = "127.0.0.1"
    accepted: int = 0
    server: asyncio.Server | None = None
    port: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, self.host, 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
            writer.write(head + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(RSS))
            writer.write(RSS)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released): a connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
