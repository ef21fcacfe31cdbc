"""What monitor.net.options decides without a request: which origin is the source's, which
hosts skip the proxy, what a proxy URL may be."""

from __future__ import annotations

import pytest
from yarl import URL

from monitor.net.options import (
    ProxyRoutes,
    RequestOptions,
    basic_credentials,
    no_proxy_entry,
    parse_proxy,
    request_options,
    same_origin,
)

P = pytest.param


@pytest.mark.parametrize(
    ("url", "same"),
    [
        P("https://news.ma/feed", True, id="itself"),
        P("https://NEWS.ma:443/other?x=1", True, id="case-default-port"),
        P("https://news.ma./feed", True, id="trailing-dot"),
        P("https://news.ma:8443/feed", False, id="port"),
        P("http://news.ma/feed", False, id="downgrade"),
        P("https://www.news.ma/feed", False, id="subdomain"),
        P("https://news.ma.evil.example/feed", False, id="suffix"),
    ],
)
def test_the_origin_of_an_https_source(url: str, same: bool) -> None:
    assert same_origin(URL(url), URL("https://news.ma/rss")) is same


def test_an_http_source_s_origin_includes_its_upgrade_to_https() -> None:
    origin = URL("http://news.ma/feed")
    assert same_origin(URL("https://news.ma/feed"), origin)
    assert not same_origin(URL("https://news.ma:8443/feed"), origin)
    assert not same_origin(URL("https://news.ma/"), URL("http://news.ma:8080/"))


def test_headers_for_a_request() -> None:
    options = request_options("https://news.ma/feed", {"X-Key": "k"}, "UA/1", ("u", "p"), None)
    private = {"X-Key": "k", "Authorization": basic_credentials("u", "p")}
    assert options.headers_for(URL("https://news.ma/a"), trusted=True) == {
        "User-Agent": "UA/1",
        **private,
    }
    assert options.headers_for(URL("https://news.ma/a"), trusted=False) == {"User-Agent": "UA/1"}
    assert options.headers_for(URL("https://cdn.ma/a"), trusted=True) == {"User-Agent": "UA/1"}
    assert RequestOptions().headers_for(URL("https://news.ma/"), trusted=True) == {}


def test_basic_credentials_are_utf8() -> None:
    assert basic_credentials("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert basic_credentials("veille", "é") == "Basic dmVpbGxlOsOp"  # RFC 7617 charset=UTF-8


@pytest.mark.parametrize(
    ("host", "bypassed"),
    [
        P("intranet.corp.ma", True, id="subdomain"),
        P("corp.ma", True, id="domain"),
        P("CORP.MA.", True, id="case-dot"),
        P("notcorp.ma", False, id="not-a-suffix-label"),
        P("localhost", True, id="name"),
        P("10.20.30.40", True, id="in-network"),
        P("11.0.0.1", False, id="outside"),
        P("[::1]", True, id="ipv6"),
        P("news.ma", False, id="other"),
    ],
)
def test_no_proxy(host: str, bypassed: bool) -> None:
    routes = ProxyRoutes.of("http://proxy:3128", [".corp.ma", "localhost", "10.0.0.0/8", "::1"])
    assert routes.bypassed(host) is bypassed
    proxy = routes.proxy_for(URL(f"http://{host}/"), RequestOptions())
    assert (proxy is None) is bypassed


@pytest.mark.parametrize("entry", ["actualités.ma", "xn--actualits-i4a.ma"])
def test_no_proxy_names_an_internationalised_domain_either_way(entry: str) -> None:
    routes = ProxyRoutes.of("http://proxy:3128", [entry])
    assert routes.bypassed("www.actualités.ma") and routes.bypassed("www.xn--actualits-i4a.ma")
    assert routes.proxy_for(URL("https://www.actualités.ma/rss"), RequestOptions()) is None
    assert not routes.bypassed("actualites.ma")


def test_no_proxy_star_and_the_source_s_choice() -> None:
    routes = ProxyRoutes.of("http://proxy:3128", ["*"])
    assert routes.proxy_for(URL("http://news.ma/"), RequestOptions()) is None
    own = request_options("http://news.ma/", {}, None, None, "http://own:8080")
    assert routes.proxy_for(URL("http://news.ma/"), own) == own.proxy  # no_proxy is the network's
    direct = request_options("http://news.ma/", {}, None, None, "none")
    assert ProxyRoutes.of("http://proxy:3128", []).proxy_for(URL("http://x.ma/"), direct) is None


@pytest.mark.parametrize(
    ("text", "entry"),
    [("*.Corp.ma", "corp.ma"), (".corp.ma", "corp.ma"), (" 10.1.2.3/8 ", "10.0.0.0/8"),
     ("[::1]", "::1/128"), ("*", "*")],
)  # fmt: skip
def test_no_proxy_entries_are_normalised(text: str, entry: str) -> None:
    assert no_proxy_entry(text) == entry


@pytest.mark.parametrize("text", ["a b", "corp.ma:8080", "-bad.ma", "http://corp.ma", ""])
def test_no_proxy_entries_that_are_not_hosts(text: str) -> None:
    with pytest.raises(ValueError, match="expected a host or domain"):
        no_proxy_entry(text)


def test_a_proxy_url_keeps_its_credentials_apart_and_never_echoes_them() -> None:
    proxy = parse_proxy("http://corp%40ma:s%3Acret@10.0.0.1:3128")
    assert str(proxy.url) == "http://10.0.0.1:3128" and proxy.login == ("corp@ma", "s:cret")
    for bad in ("https://u:s3cret@p:1", "http://u:s3cret@p:1/x", "http://u:s3cret@p:1 "):
        with pytest.raises(ValueError) as caught:
            parse_proxy(bad)
        assert "s3cret" not in str(caught.value)


def test_options_and_routes_show_no_secret_in_their_repr() -> None:
    options = request_options("https://n.ma/", {"X-K": "k-secret"}, None, ("u", "p-secret"), None)
    routes = ProxyRoutes.of("http://u:proxy-secret@10.0.0.1:3128", [])
    shown = repr(options) + repr(routes)
    assert "secret" not in shown and basic_credentials("u", "p-secret") not in shown
