"""Which addresses the guard refuses (DESIGN §3.2 ``network.allow``), as pure functions of an
address: used at connection time by :mod:`monitor.net.guard`, and by ``monitor check`` to warn
of configured URLs the daemon would refuse, without importing the HTTP client.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges that ``ipaddress`` calls global but that must not be reached from here.
_EXTRA_V4 = (ipaddress.IPv4Network("100.64.0.0/10"),)  # carrier-grade NAT (RFC 6598)
_EXTRA_V6 = (
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
    ipaddress.IPv6Network("2001::/32"),  # Teredo: the embedded client address is obfuscated
)
Who = TypeVar("Who")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address really leads to: mapped, NAT64 or 6to4."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _allowed(ip: IPAddress, allow: Sequence[Network]) -> bool:
    return any(ip.version == net.version and ip in net for net in allow)


def _non_public(ip: IPAddress) -> bool:
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
        or not ip.is_global
    ):
        return True
    extra: tuple[Network, ...] = _EXTRA_V4 if ip.version == 4 else _EXTRA_V6
    return any(ip in net for net in extra)


def is_refused(ip: IPAddress | str, allow: Sequence[Network] = ()) -> bool:
    """True when ``ip`` is not a public address and no network of ``allow`` contains it.

    An IPv6 address carrying an IPv4 one (``::ffff:a.b.c.d``, NAT64, 6to4) is judged by the
    IPv4 address it leads to; either form may be allow-listed.
    """
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # drop any %scope
        inner = embedded_ipv4(address)
        if inner is not None:
            if _allowed(address, allow):
                return False
            return is_refused(inner, allow)
    if _allowed(address, allow):
        return False
    return _non_public(address)


LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
# what a loopback name leads to (RFC 6761: never asked of DNS; both, on most systems)
_LOOPBACK: tuple[IPAddress, ...] = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def _network_of(ip: IPAddress) -> str:
    """The network to list in ``network.allow`` for ``ip``: all of loopback for a loopback
    address (a test server may use any of them), else the address alone; an IPv6 address
    carrying an IPv4 one is judged, and listed, by that one."""
    if isinstance(ip, ipaddress.IPv6Address):
        ip = embedded_ipv4(ip) or ip
    if ip.version == 4 and ip.is_loopback:
        return "127.0.0.0/8"
    return f"{ip}/{ip.max_prefixlen}"


def refused_url(url: str, allow: Sequence[Network]) -> tuple[str, list[str]] | None:
    """The host of ``url`` and the networks ``allow`` would have to list, when the guard will
    refuse it whatever DNS says: an IP literal, or a loopback name, that is not public; None
    otherwise (a name that resolves to a private address is found only once resolved)."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return None
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        addresses: tuple[IPAddress, ...] = _LOOPBACK
    elif ":" not in host and not host.replace(".", "").isdigit():
        return None  # a name: no IP literal has letters (an IPv6 one has colons), no parse
    else:
        try:
            addresses = (ipaddress.ip_address(host),)
        except ValueError:
            return None
    refused = [_network_of(ip) for ip in addresses if is_refused(ip, allow)]
    return (host, refused) if refused else None


# a URL's scheme and authority, as urlsplit reads them (its scheme characters; the authority
# ends at the first '/', '?' or '#'), when no space or control character is in them, which
# urlsplit would strip or drop
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\x00-\x20\x7f]*")


def refused_urls(
    urls: Iterable[tuple[Who, str]], allow: Sequence[Network]
) -> Iterator[tuple[Who, str, list[str]]]:
    """(who, host, networks) for each (who, URL) of ``urls`` that :func:`refused_url` refuses,
    each scheme and authority judged once: 100,000 sources on a few hosts cost a few parses
    (issue 25). The host is all of the URL's authority the answer depends on."""
    judged: dict[str, tuple[str, list[str]] | None] = {}
    for who, url in urls:
        found = _AUTHORITY.match(url)
        if found is None or url[found.end() : found.end() + 1] not in ("", "/", "?", "#"):
            refused = refused_url(url, allow)  # (not a plain URL: judged as it is)
        else:
            key = found[0]
            if key not in judged:
                judged[key] = refused_url(key, allow)
            refused = judged[key]
        if refused is not None:
            yield who, *refused
