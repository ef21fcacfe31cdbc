"""A source's headers, user agent, basic auth and proxy, through the shared client against real
origins and a real forward proxy on loopback (monitor.net.options)."""

from __future__ import annotations

import ssl

import pytest
import trustme

from monitor.config.sections import NetworkConfig
from monitor.core.errors import AddressRefused, FetchError, HTTPStatusError, Unreachable
from monitor.core.models import Fetched
from monitor.net.http import HttpClient
from monitor.net.options import NO_OPTIONS, RequestOptions, request_options
from tests.support.net import StaticResolver
from tests.support.origins import Origin, basic, redirect
from tests.support.proxy import ForwardProxy

UA = "Veille/2.0 (+https://veille.example.ma)"
PRIVATE = ("authorization", "x-api-key")


def network(**overrides: object) -> NetworkConfig:
    values: dict[str, object] = {"allow": ["127.0.0.0/8"], "timeout": "10s"}
    return NetworkConfig.model_validate(values | overrides)


def options_for(url: str, proxy: str | None = None) -> RequestOptions:
    """A source at ``url`` with a custom header, a user agent and basic auth."""
    return request_options(url, {"X-Api-Key": "k-123456"}, UA, ("veille", "pässwörd"), proxy)


def guarded_origin() -> Origin:
    """An origin answering 401 without the source's header, user agent and credentials."""
    auth = basic("veille", "pässwörd")
    return Origin(wants={"x-api-key": "k-123456", "user-agent": UA, "authorization": auth})


async def test_the_source_s_header_user_agent_and_credentials_open_its_feed() -> None:
    async with guarded_origin() as site, HttpClient(network()) as http:
        with pytest.raises(HTTPStatusError) as refused:
            await http.get(f"{site.url}/feed")
        assert refused.value.status == 401
        fetched = await http.get(f"{site.url}/feed", options_for(site.url))
    assert fetched.status == 200 and b"<rss" in fetched.body


async def test_a_redirect_on_the_origin_keeps_them() -> None:
    async with guarded_origin() as site, HttpClient(network()) as http:
        site.pages["/old"] = redirect("/feed", 301)
        fetched = await http.get(f"{site.url}/old", options_for(site.url))
    assert fetched.url == f"{site.url}/feed" and fetched.permanent_redirect == fetched.url


async def test_a_redirect_to_another_origin_drops_credentials_and_headers() -> None:
    async with Origin() as site, Origin() as elsewhere, HttpClient(network()) as http:
        # another port is another origin; the chain then comes back to the source's origin
        site.pages["/feed"] = redirect(f"{elsewhere.url}/hop")
        elsewhere.pages["/hop"] = redirect(f"{site.url}/final")
        fetched = await http.get(f"{site.url}/feed", options_for(f"{site.url}/feed"))
    assert fetched.url == f"{site.url}/final"
    (first,) = site.headers_at("/feed")
    assert first["authorization"] == basic("veille", "pässwörd")
    assert first["x-api-key"] == "k-123456"
    (hop,) = elsewhere.headers_at("/hop")
    (back,) = site.headers_at("/final")
    for headers in (hop, back):  # once off the origin, the chain is trusted no longer
        assert not set(PRIVATE) & set(headers)
        assert headers["user-agent"] == UA  # not a secret: it goes everywhere for the source


async def test_localhost_is_another_origin_than_127_0_0_1() -> None:
    resolver = StaticResolver({"localhost": "127.0.0.1"})
    async with Origin() as site, HttpClient(network(), resolver=resolver) as http:
        site.pages["/feed"] = redirect(f"http://localhost:{site.port}/there")
        await http.get(f"{site.url}/feed", options_for(site.url))
    (there,) = site.headers_at("/there")
    assert not set(PRIVATE) & set(there)


async def test_requests_without_options_carry_the_default_user_agent_only() -> None:
    async with Origin() as site, HttpClient(network(user_agent="Ours/1")) as http:
        await http.get(f"{site.url}/feed", NO_OPTIONS)
        await http.redirect_target(f"{site.url}/feed", options_for(site.url))
    plain, asked = site.headers_at("/feed")
    assert plain["user-agent"] == "Ours/1" and not set(PRIVATE) & set(plain)
    assert asked["user-agent"] == UA and asked["x-api-key"] == "k-123456"


async def test_requests_go_through_the_network_proxy_with_its_credentials() -> None:
    resolver = StaticResolver({"news.test": "127.0.0.1"})
    async with Origin() as site, ForwardProxy({"news.test": "127.0.0.1"}) as proxy:
        proxy.credentials = basic("corp", "s3cret-proxy")
        url = f"http://news.test:{site.port}/feed"
        proxied = network(proxy=f"http://corp:s3cret-proxy@127.0.0.1:{proxy.port}")
        async with HttpClient(proxied, resolver=resolver) as http:
            fetched = await http.get(url, options_for(url))
    assert isinstance(fetched, Fetched) and fetched.url == url
    (seen,) = proxy.seen
    assert seen.method == "GET" and seen.target == url
    assert seen.headers["proxy-authorization"] == basic("corp", "s3cret-proxy")
    (asked,) = site.headers_at("/feed")
    assert asked["x-api-key"] == "k-123456"  # the proxy carries the source's own request
    assert "proxy-authorization" not in asked


async def test_a_proxy_refusing_the_credentials_fails_the_fetch() -> None:
    async with ForwardProxy(credentials="Basic right") as proxy:
        wrong = network(proxy=f"http://corp:wrong@127.0.0.1:{proxy.port}")
        async with HttpClient(wrong) as http:
            with pytest.raises(FetchError) as failed:
                await http.get("http://127.0.0.1:9/feed")
    # the proxy's refusal, not the site's answer (the https case says the same: a CONNECT)
    assert str(failed.value) == (
        "127.0.0.1: the proxy refused to reach it (407 Proxy Authentication Required)"
    )
    assert not isinstance(failed.value, HTTPStatusError) and "wrong" not in str(failed.value)


async def test_no_proxy_hosts_and_a_source_s_proxy_none_go_direct() -> None:
    resolver = StaticResolver({"news.test": "127.0.0.1", "other.test": "127.0.0.1"})
    async with Origin() as site, ForwardProxy({"other.test": "127.0.0.1"}) as proxy:
        settings = network(proxy=proxy.url, no_proxy="localhost, .news.test")
        async with HttpClient(settings, resolver=resolver) as http:
            await http.get(f"http://news.test:{site.port}/listed")
            direct = request_options(site.url, {}, None, None, "none")
            await http.get(f"http://other.test:{site.port}/unlisted", direct)
            await http.get(f"http://other.test:{site.port}/proxied")
    assert [seen.target for seen in proxy.seen] == [f"http://other.test:{site.port}/proxied"]
    assert [asked.path for asked in site.asked] == ["/listed", "/unlisted", "/proxied"]


async def test_a_source_s_own_proxy_wins_over_the_network_s() -> None:
    async with Origin() as site, ForwardProxy() as network_proxy, ForwardProxy() as own:
        async with HttpClient(network(proxy=network_proxy.url)) as http:
            await http.get(f"{site.url}/feed", request_options(site.url, {}, None, None, own.url))
    assert network_proxy.seen == [] and len(own.seen) == 1


async def test_the_guard_judges_the_target_before_handing_it_to_the_proxy() -> None:
    # the proxy is on loopback, which network.allow does not list: the operator named it, so
    # it is dialled; the targets are judged by what they resolve to here
    resolver = StaticResolver({"intranet.test": "10.1.2.3", "public.test": "93.184.216.34"})
    async with Origin() as site, ForwardProxy({"public.test": "127.0.0.1"}) as proxy:
        async with HttpClient(network(allow=[], proxy=proxy.url), resolver=resolver) as http:
            with pytest.raises(AddressRefused, match=r"127\.0\.0\.1"):
                await http.get(f"{site.url}/feed")
            with pytest.raises(AddressRefused, match=r"intranet\.test \(10\.1\.2\.3\)"):
                await http.get(f"http://intranet.test:{site.port}/feed")
            assert proxy.seen == []  # nothing refused reached the proxy
            # what the guard cannot see: the proxy resolves the name again, its own way
            fetched = await http.get(f"http://public.test:{site.port}/feed")
    assert fetched.status == 200 and len(proxy.seen) == 1


async def test_a_redirect_through_the_proxy_to_a_refused_address_is_refused() -> None:
    resolver = StaticResolver({"public.test": "93.184.216.34"})
    async with Origin() as site, ForwardProxy({"public.test": "127.0.0.1"}) as proxy:
        site.pages["/feed"] = redirect("http://127.0.0.2/admin")
        async with HttpClient(network(allow=[], proxy=proxy.url), resolver=resolver) as http:
            with pytest.raises(AddressRefused, match=r"127\.0\.0\.2"):
                await http.get(f"http://public.test:{site.port}/feed")
    assert [seen.target for seen in proxy.seen] == [f"http://public.test:{site.port}/feed"]


async def test_https_goes_through_the_proxy_in_a_tunnel_it_cannot_read() -> None:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("news.test").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    resolver = StaticResolver({"news.test": "127.0.0.1"})
    async with wanting_tls(server) as site, ForwardProxy({"news.test": "127.0.0.1"}) as proxy:
        proxy.credentials = basic("corp", "s3cret-proxy")
        url = f"https://news.test:{site.port}/feed"
        settings = network(proxy=f"http://corp:s3cret-proxy@127.0.0.1:{proxy.port}")
        async with HttpClient(settings, resolver=resolver, ssl_context=client) as http:
            fetched = await http.get(url, options_for(url))
    assert fetched.status == 200
    (seen,) = proxy.seen
    assert (seen.method, seen.target) == ("CONNECT", f"news.test:{site.port}")
    assert seen.headers["proxy-authorization"] == basic("corp", "s3cret-proxy")
    assert not set(PRIVATE) & set(seen.headers)  # the source's secrets are inside the tunnel
    (asked,) = site.headers_at("/feed")
    assert asked["x-api-key"] == "k-123456" and "proxy-authorization" not in asked


def wanting_tls(context: ssl.SSLContext) -> Origin:
    site = guarded_origin()
    site.tls = context
    return site


async def test_proxy_failures_say_it_is_the_proxy() -> None:
    async with ForwardProxy(credentials="Basic right") as proxy:
        port = proxy.port
        refusing = network(proxy=f"http://corp:wrong@127.0.0.1:{port}")
        async with HttpClient(
            refusing, resolver=StaticResolver({"n.test": "93.184.216.34"})
        ) as http:
            with pytest.raises(FetchError) as tunnel:
                await http.get("https://n.test/feed")
    async with HttpClient(network(proxy=f"http://corp:wrong@127.0.0.1:{port}")) as http:
        with pytest.raises(FetchError) as down:
            await http.get("http://127.0.0.1:9/feed")
    assert (
        str(tunnel.value)
        == "n.test: the proxy refused to reach it (407 Proxy Authentication Required)"
    )
    assert str(down.value) == f"cannot connect to the proxy: connection refused by 127.0.0.1:{port}"
    assert isinstance(down.value, Unreachable) and down.value.reason == "proxy connection refused"
    assert "wrong" not in str(tunnel.value) + str(down.value)


async def test_a_hub_subscription_goes_through_the_network_proxy() -> None:
    async with Origin() as hub, ForwardProxy() as proxy:
        async with HttpClient(network(proxy=proxy.url)) as http:
            status, _ = await http.post_form(f"{hub.url}/hub", {"hub.mode": "subscribe"})
    # the origin answers only GET (405 here): what matters is the way the POST went
    assert status == 405
    assert [(seen.method, seen.target) for seen in proxy.seen] == [("POST", f"{hub.url}/hub")]


async def test_a_name_not_found_before_the_proxy_is_no_server_answering() -> None:
    # (offline behind a proxy: counted by the first round's "no source reachable" line)
    async with ForwardProxy() as proxy:
        unknown = StaticResolver({})
        async with HttpClient(network(proxy=proxy.url), resolver=unknown) as http:
            with pytest.raises(Unreachable) as caught:
                await http.get("http://nowhere.test/feed")
    assert (str(caught.value), caught.value.reason) == (
        "name nowhere.test not found",
        "name resolution",
    )
    assert not proxy.seen  # nothing handed to the proxy
