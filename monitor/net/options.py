"""How the requests made for one source go out: its own headers, user agent, basic auth and
proxy (a source's ``headers``, ``user_agent``, ``username``/``password``, ``proxy``), and which
requests the network's proxy carries (``network.proxy``, ``network.no_proxy``).

- Credentials and custom headers go to the source's own origin only (scheme, host and port of
  its configured URL; an upgrade from http to https on the same host counts as the same): not
  to a redirect's target on another origin, nor to any later hop of that chain, nor to article
  pages or feeds found elsewhere. Browsers and ``requests`` drop ``Authorization`` the same way.
- The user agent is not a secret: it goes with every request made for the source.
- A source's ``proxy`` carries every request made for it (``none``: no proxy at all); other
  requests go through ``network.proxy`` unless their host is in ``network.no_proxy``.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from yarl import URL

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DIRECT = "none"  # a source's ``proxy: none``: its requests go straight, whatever the network's
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110 §5.1)


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP forward proxy: its address without credentials, and the credentials."""

    url: URL
    # (user, password), sent as Proxy-Authorization; never in a repr
    login: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def credentials(self) -> str:
        return basic_credentials(*self.login) if self.login else ""


def parse_proxy(text: str) -> Proxy:
    """``http://[USER:PASSWORD@]HOST[:PORT]``; ValueError (never echoing it: it may hold a
    password) for anything else."""
    if "\\" in text or any(ord(c) < 32 or c.isspace() for c in text):
        raise ValueError("a proxy URL contains a space, a backslash or a control character")
    url = URL(text)
    if url.scheme != "http" or not url.host:
        raise ValueError(
            f"expected http://[USER:PASSWORD@]HOST:PORT (scheme {url.scheme!r}): a proxy is "
            "spoken to in plain http, and https sites are reached through it"
        )
    if url.path not in ("", "/") or url.query_string or url.fragment:
        raise ValueError("a proxy URL is http://[USER:PASSWORD@]HOST:PORT, with no path or query")
    login = (url.user, url.password or "") if url.user is not None else None
    if login is not None and ":" in login[0]:
        raise ValueError("a proxy user name cannot contain ':'")
    return Proxy(url.with_user(None).with_path(""), login)


def basic_credentials(user: str, password: str) -> str:
    """An ``Authorization`` value for HTTP basic auth, in UTF-8 (RFC 7617). Written here, not
    taken from aiohttp: the configuration uses this module, and loads without aiohttp."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _ascii(name: str) -> str:
    """A host name as DNS has it: an internationalised one in punycode (xn--…)."""
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name  # (not a name IDNA can write: left for the checks to refuse)


def no_proxy_entry(text: str) -> str:
    """One entry of ``no_proxy``, normalised: ``*``, an address or a network (``10.0.0.0/8``),
    or a host name, which also stands for its subdomains (``example.com``, ``.example.com``
    and ``*.example.com`` alike); ValueError otherwise."""
    entry = text.strip().lower()
    if entry == "*":
        return entry
    try:
        return str(ipaddress.ip_network(entry.strip("[]"), strict=False))
    except ValueError:
        pass
    name = _ascii(entry.removeprefix("*").removeprefix(".").rstrip("."))
    if not _HOST_NAME.fullmatch(name):
        raise ValueError(
            f"expected a host or domain (example.com), an address or network (10.0.0.0/8), "
            f"or *, not {text!r}"
        )
    return name


def is_header_name(name: str) -> bool:
    return _TOKEN.fullmatch(name) is not None


def _origin(url: URL) -> tuple[str, str, int | None]:
    return url.scheme, (url.host or "").lower().rstrip("."), url.port


def same_origin(url: URL, origin: URL) -> bool:
    """Whether ``url`` is on ``origin`` (or on its https form, for an http origin on port 80:
    the upgrade every site makes)."""
    scheme, host, port = _origin(url)
    own_scheme, own_host, own_port = _origin(origin)
    if host != own_host:
        return False
    if (scheme, port) == (own_scheme, own_port):
        return True
    return (own_scheme, own_port, scheme, port) == ("http", 80, "https", 443)


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """What the requests made for one source carry (see the module's docstring)."""

    origin: URL | None = None  # where ``private`` may go: the source's configured URL's
    private: Mapping[str, str] = field(default_factory=dict, repr=False)  # headers, Authorization
    user_agent: str | None = None
    proxy: Proxy | None = None  # the source's own
    direct: bool = False  # proxy: none

    def headers_for(self, url: URL, trusted: bool) -> dict[str, str]:
        """The headers a request to ``url`` carries; ``trusted`` when every hop that led there
        stayed on the origin."""
        headers = {"User-Agent": self.user_agent} if self.user_agent else {}
        if self.private and trusted and self.owns(url):
            headers.update(self.private)
        return headers

    def owns(self, url: URL) -> bool:
        return self.origin is not None and same_origin(url, self.origin)


NO_OPTIONS = RequestOptions()


def request_options(
    url: str,
    headers: Mapping[str, str],
    user_agent: str | None,
    login: tuple[str, str] | None,
    proxy: str | None,
) -> RequestOptions:
    """A source's options from its configured values (validated by the configuration)."""
    private = dict(headers)
    if login is not None:
        private["Authorization"] = basic_credentials(*login)
    return RequestOptions(
        origin=URL(url) if private else None,
        private=private,
        user_agent=user_agent,
        proxy=parse_proxy(proxy) if proxy is not None and proxy != DIRECT else None,
        direct=proxy == DIRECT,
    )


@dataclass(frozen=True, slots=True)
class ProxyRoutes:
    """Which proxy, if any, a request goes through."""

    proxy: Proxy | None = None  # network.proxy
    names: tuple[str, ...] = ()  # no_proxy's host names, and their subdomains
    networks: tuple[Network, ...] = ()  # no_proxy's addresses and networks
    everything: bool = False  # no_proxy: ['*']

    @classmethod
    def of(cls, proxy: str | None, no_proxy: Sequence[str]) -> ProxyRoutes:
        entries = [no_proxy_entry(entry) for entry in no_proxy]
        names, networks = [], []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry))
            except ValueError:
                names.append(entry)
        return cls(
            parse_proxy(proxy) if proxy else None,
            tuple(names),
            tuple(networks),
            "*" in entries,
        )

    def proxy_for(self, url: URL, options: RequestOptions) -> Proxy | None:
        if options.direct:
            return None
        if options.proxy is not None:
            return options.proxy
        if self.proxy is None or self.bypassed(url.host or ""):
            return None
        return self.proxy

    def bypassed(self, host: str) -> bool:
        """Whether ``host`` is reached directly (``no_proxy``): a listed name or one of its
        subdomains, or an address literal inside a listed network."""
        if self.everything:
            return True
        host = _ascii(host.lower().rstrip("."))  # (entries are ASCII: an IDN host compared so)
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return any(host == name or host.endswith("." + name) for name in self.names)
        return any(ip.version == net.version and ip in net for net in self.networks)
