"""The address guard (DESIGN §3.2 ``network.allow``): no connection to a non-public address.

The check runs at connection time, on the addresses the connector is about to dial, so it
covers IP literals and resolved names, every redirect hop and every user of the shared
session (feeds and webhooks), with no gap between the check and the connect.

aiohttp's resolver is never asked about IP literals (``http://127.0.0.1/``), so a custom
resolver alone is not enough; ``TCPConnector._resolve_host`` is the one place that returns
the addresses to dial for both literals and names (DNS cache hits included).

Through a proxy (monitor.net.options) the connector dials only the proxy, whose address is not
judged: the operator named it. The target's name is resolved here and judged before the request
is handed to the proxy (:meth:`GuardedConnector.check_target`). What that cannot see: the proxy
resolves the name again, on its own (another DNS view, or an answer changed in between), and
reaches whatever it finds; a proxy that can reach private networks must refuse them itself.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from contextvars import ContextVar
from ssl import SSLContext
from typing import TYPE_CHECKING

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from monitor.core.errors import AddressRefused
from monitor.net.addresses import IPAddress, Network, embedded_ipv4, is_refused

if TYPE_CHECKING:
    import asyncio

    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

# set while the connector dials a proxy: the operator named it (network.proxy, a source's
# proxy), so its address is not judged; the target behind it is, before the request is sent
_DIALLING_PROXY: ContextVar[bool] = ContextVar("dialling_proxy", default=False)

if not hasattr(aiohttp.TCPConnector, "_resolve_host"):  # fail closed if aiohttp changes
    raise ImportError("monitor.net.guard needs aiohttp.TCPConnector._resolve_host")


def check_address(host: str, address: str, allow: Sequence[Network]) -> None:
    """Raise AddressRefused unless ``address`` (one that ``host`` leads to) may be dialled."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        raise AddressRefused(f"refused {host}: cannot judge address {address!r}") from None
    if is_refused(ip, allow):
        raise AddressRefused(
            f"refused {host} ({ip}): not a public address; list its network in network.allow"
        )


__all__ = [
    "GuardedConnector",
    "IPAddress",
    "Network",
    "check_address",
    "embedded_ipv4",
    "is_refused",
]


class GuardedConnector(aiohttp.TCPConnector):
    """A TCPConnector that refuses, before dialling, every address the guard refuses."""

    def __init__(
        self,
        *,
        allow: Sequence[Network],
        limit: int = 100,
        limit_per_host: int = 0,
        resolver: AbstractResolver | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        ssl: SSLContext | bool = True,
    ) -> None:
        super().__init__(
            limit=limit,
            limit_per_host=limit_per_host,
            resolver=resolver,
            family=family,
            ssl=ssl,
        )
        self._allow = tuple(allow)

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        # Literals and names alike come back from here as the list of addresses to dial.
        results = await super()._resolve_host(host, port, traces=traces)
        if not _DIALLING_PROXY.get():
            for result in results:
                check_address(host, result["host"], self._allow)
        return results

    async def _create_proxy_connection(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
    ) -> tuple[asyncio.BaseTransport, ResponseHandler]:
        token = _DIALLING_PROXY.set(True)  # (this task only: the others are still judged)
        try:
            return await super()._create_proxy_connection(req, traces, timeout)
        finally:
            _DIALLING_PROXY.reset(token)

    async def check_target(self, host: str, port: int) -> None:
        """Judge ``host`` as a direct request would, by resolving it here: a request handed to a
        proxy dials only the proxy. AddressRefused, or OSError when it cannot be resolved."""
        await self._resolve_host(host, port)
