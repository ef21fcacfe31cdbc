"""The address guard: the pure judgement, then real connections on loopback."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from monitor.config.sections import NetworkConfig
from monitor.core.errors import AddressRefused
from monitor.core.models import Fetched
from monitor.net.guard import Network, is_refused
from monitor.net.http import HttpClient
from tests.support.net import RSS, Listener, StaticResolver

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    server = Listener()
    await server.start()
    yield server
    await server.close()


def network(allow: list[Network]) -> NetworkConfig:
    return NetworkConfig.model_validate({"allow": [str(n) for n in allow], "timeout": "5s"})


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("::", True),
        ("224.0.0.1", True),
        ("ff02::1", True),
        ("255.255.255.255", True),
        ("240.0.0.1", True),
        ("64:ff9b::7f00:1", True),
        ("64:ff9b:1::a00:1", True),
        ("2002:7f00:1::", True),
        ("2002:a9fe:a9fe::1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("fc00::1", True),
        ("fd12:3456::1", True),
        ("fe80::1", True),
        ("fe80::1%eth0", True),
        ("::7f00:1", True),
        ("93.184.216.34", False),
        ("2606:4700::1", False),
        ("::ffff:93.184.216.34", False),
        ("64:ff9b::5db8:d822", False),
        ("2002:5db8:d822::1", False),
        ("8.8.8.8", False),
    ],
)
def test_is_refused_without_allow_list(address: str, refused: bool) -> None:
    assert is_refused(address, []) is refused


@pytest.mark.parametrize(
    ("address", "allow", "refused"),
    [
        ("127.0.0.1", ["127.0.0.0/8"], False),
        ("::ffff:127.0.0.1", ["127.0.0.0/8"], False),
        ("64:ff9b::7f00:1", ["127.0.0.0/8"], False),
        ("::1", ["127.0.0.0/8"], True),
        ("::1", ["::1/128"], False),
        ("10.1.2.3", ["10.0.0.0/8"], False),
        ("10.1.2.3", ["192.168.0.0/16"], True),
        ("169.254.169.254", ["127.0.0.0/8"], True),
        ("fd00::5", ["fd00::/8"], False),
    ],
)
def test_allow_list_reopens_only_its_networks(
    address: str, allow: list[str], refused: bool
) -> None:
    networks = [ipaddress.ip_network(a) for a in allow]
    assert is_refused(ipaddress.ip_address(address.split("%")[0]), networks) is refused


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "0.0.0.0"]
)
async def test_literal_addresses_are_refused_before_connecting(
    listener: Listener, host: str
) -> None:
    async with HttpClient(network([])) as http:
        with pytest.raises(AddressRefused, match="not a public address") as caught:
            await http.fetch(f"http://{host}:{listener.port}/feed")
    assert listener.accepted == 0
    assert f"({ipaddress.ip_address(host.strip('[]'))})" in str(caught.value)


async def test_a_name_resolving_to_loopback_is_refused_every_time(listener: Listener) -> None:
    resolver = StaticResolver({"feeds.test": "127.0.0.1"})
    async with HttpClient(network([]), resolver=resolver) as http:
        for _ in range(2):  # the second attempt goes through aiohttp's DNS cache path
            with pytest.raises(AddressRefused, match=r"feeds\.test \(127\.0\.0\.1\)"):
                await http.fetch(f"http://feeds.test:{listener.port}/feed")
    assert listener.accepted == 0


async def test_localhost_from_the_system_resolver_is_refused(listener: Listener) -> None:
    async with HttpClient(network([])) as http:
        with pytest.raises(AddressRefused, match="localhost"):
            await http.fetch(f"http://localhost:{listener.port}/feed")
    assert listener.accepted == 0


async def test_an_allow_list_lets_loopback_through(listener: Listener) -> None:
    resolver = StaticResolver({"feeds.test": "127.0.0.1"})
    async with HttpClient(network(list(LOOPBACK)), resolver=resolver) as http:
        by_ip = await http.fetch(f"http://127.0.0.1:{listener.port}/feed")
        by_name = await http.fetch(f"http://feeds.test:{listener.port}/feed")
    assert isinstance(by_ip, Fetched) and by_ip.body == RSS
    assert isinstance(by_name, Fetched) and by_name.body == RSS
    assert listener.accepted == 2


async def test_a_redirect_to_a_refused_address_is_refused_before_connecting() -> None:
    secret = Listener(host="127.0.0.2")
    await secret.start()
    hits: list[str] = []

    async def bounce(request: web.Request) -> web.Response:
        hits.append(request.path)
        raise web.HTTPFound(f"http://127.0.0.2:{secret.port}/secret")

    app = web.Application()
    app.router.add_get("/feed", bounce)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        allow = [ipaddress.ip_network("127.0.0.1/32")]
        async with HttpClient(network(list(allow))) as http:
            with pytest.raises(AddressRefused, match=r"127\.0\.0\.2"):
                await http.fetch(f"http://127.0.0.1:{port}/feed")
    finally:
        await runner.cleanup()
        await secret.close()
    assert hits == ["/feed"]
    assert secret.accepted == 0
