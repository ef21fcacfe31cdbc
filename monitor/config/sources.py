"""The sources of the configuration: one model per ``kind:`` (DESIGN §2), told apart by it.

The parsing side of each kind is in ``monitor/sources/`` (registered in
``monitor.sources.registry``); these models only check what the YAML says.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Literal
from urllib.parse import quote_plus

from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    field_validator,
    model_validator,
)
from yarl import URL

from monitor.config.base import Model, Name
from monitor.config.types import HttpUrl, Interval, SourceProxy
from monitor.core.redact import CONTROL
from monitor.net.options import RequestOptions, is_header_name, request_options


def search_url(
    query: str, language: str, country: str, endpoint: str = "https://news.google.com"
) -> str:
    """Google News' RSS feed of a search, in one edition (language and country)."""
    return (
        f"{endpoint.rstrip('/')}/rss/search?q={quote_plus(query)}"
        f"&hl={language}&gl={country}&ceid={country}:{language.split('-')[0]}"
    )


# headers a source may not set: the client's own (framing, conditional GET), or set otherwise
_RESERVED = {
    "host": "",
    "content-length": "",
    "transfer-encoding": "",
    "connection": "",
    "te": "",
    "upgrade": "",
    "if-none-match": " (monitor sends it for conditional GET)",
    "if-modified-since": " (monitor sends it for conditional GET)",
    "user-agent": ": set it with user_agent:",
    "proxy-authorization": ": write the proxy's credentials in its URL",
}


def _header_name(name: str) -> str:
    if not is_header_name(name):
        raise ValueError(f"not a header name: {_short(name)}")
    if name.lower() in _RESERVED:
        raise ValueError(f"{name} cannot be set here{_RESERVED[name.lower()]}")
    return name


def _header_value(value: SecretStr) -> SecretStr:
    if CONTROL.search(value.get_secret_value()):  # a line break would start another header
        raise ValueError("a header value cannot hold a line break or a control character")
    return value


def _short(text: str) -> str:
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


HeaderName = Annotated[str, AfterValidator(_header_name)]
HeaderValue = Annotated[SecretStr, AfterValidator(_header_value)]
UserAgent = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[ -~]+$")]
# how a source's requests go out, not what it is: a change to them does not restart it
HTTP_KEYS = frozenset({"headers", "user_agent", "username", "password", "proxy"})


class _Source(Model):
    """What every kind of source has."""

    name: Name
    interval: Interval | None = None  # default: defaults.interval
    tags: list[str] = Field(default_factory=list)
    # each new item's own page is read and its main text matched too (monitor.poll.articles)
    fetch_article: bool = False
    # sent to the source's own origin only (scheme, host, port of its url: monitor.net.options)
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    username: str | None = Field(default=None, min_length=1, pattern=r"^[^:\x00-\x1f\x7f]*$")
    password: SecretStr | None = None
    user_agent: UserAgent | None = None  # sent with every request made for the source
    # an http:// URL, or none; default: network.proxy (not in repr: it may hold a password)
    proxy: SourceProxy | None = Field(default=None, repr=False)

    @model_validator(mode="after")
    def _credentials(self) -> _Source:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together (HTTP basic auth)")
        if self.username is not None and "authorization" in {h.lower() for h in self.headers}:
            raise ValueError("an Authorization header and username/password: choose one")
        return self

    def _options(self, url: str) -> RequestOptions:
        """How its requests go out (monitor.net.options), for its URL ``url``."""
        login = None
        if self.username is not None and self.password is not None:
            login = (self.username, self.password.get_secret_value())
        headers = {name: value.get_secret_value() for name, value in self.headers.items()}
        return request_options(url, headers, self.user_agent, login, self.proxy)

    @property
    def redirect_host(self) -> str | None:
        """The host whose item links stand for the publisher's, which they redirect to
        (monitor.poll.redirects); None: the links are the publishers'."""
        return None


class _AtUrl(_Source):
    url: HttpUrl

    @property
    def request_options(self) -> RequestOptions:
        return self._options(self.url)

    @property
    def config_key(self) -> str:
        """What the store keeps of the source's definition: when it changes, the source starts
        afresh (monitor.store.sources.sync): the URL, the kind and its settings, so a source
        turned from auto to html, or given new selectors, does not go on with what its old
        definition found."""
        how_polled = {"name", "interval", "tags", "fetch_article", *HTTP_KEYS}
        defined = self.model_dump(mode="json", exclude=how_polled)
        return f"{self.url} {json.dumps(defined, sort_keys=True)}"


class FeedSourceConfig(_AtUrl):
    """A feed: RSS 0.9x/1.0/2.0, Atom or JSON Feed, recognised from the body."""

    kind: Literal["feed"] = "feed"

    @property
    def config_key(self) -> str:
        return self.url  # all a feed is (and what stores kept before kinds had settings)


def _selector(value: str | None) -> str | None:
    """A CSS selector cssselect can read (the html kind's selectors); checked without lxml,
    which the daemon itself does not load."""
    if value is None:
        return None
    from cssselect import GenericTranslator, SelectorError

    try:
        GenericTranslator().css_to_xpath(value)
    except SelectorError as exc:
        raise ValueError(f"not a CSS selector cssselect can read: {exc}") from None
    return value


Selector = Annotated[str, AfterValidator(_selector)]


class HtmlSourceConfig(_AtUrl):
    """A news listing page read with CSS selectors (monitor.sources.html): ``item`` finds each
    item; ``title``, ``link``, ``date`` and ``summary`` are looked for inside it."""

    kind: Literal["html"]
    item: Selector
    title: Selector
    link: Selector | None = None  # default: the title if it is a link, else the item's first
    link_attribute: str = "href"
    date: Selector | None = None  # its ``datetime`` attribute if it has one, else its text
    date_format: str | None = None  # strptime's, e.g. "%d - %m - %Y"; default: recognised
    summary: Selector | None = None

    @field_validator("link_attribute")
    @classmethod
    def _attribute(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][-A-Za-z0-9_]*", value):  # what a CSS [attr] takes
            raise ValueError("expected an attribute name, such as href or data-url")
        return value

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        if value is not None and "%" not in value:
            raise ValueError("expected a strptime format such as '%d/%m/%Y %H:%M'")
        return value


class SitemapSourceConfig(_AtUrl):
    """A sitemap, Google News or ordinary, or a sitemap index (monitor.sources.sitemap)."""

    kind: Literal["sitemap"]


class AutoSourceConfig(_AtUrl):
    """A site's home page, whose feed is found on the first poll (monitor.sources.discovery)
    and polled from then on."""

    kind: Literal["auto"]


class GoogleNewsSourceConfig(_Source):
    """A Google News search (monitor.sources.googlenews): its query as typed in Google News,
    in one edition (``language``, ``country``); its URL is built from them."""

    google_news: str = Field(min_length=1)
    kind: Literal["google_news"] = "google_news"
    language: str = Field(default="fr", pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")
    country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    endpoint: HttpUrl = "https://news.google.com"  # another address serving its API (a proxy)

    @property
    def url(self) -> str:
        return search_url(self.google_news, self.language, self.country, self.endpoint)

    @property
    def config_key(self) -> str:
        return self.url  # the search's URL says all of it

    @property
    def request_options(self) -> RequestOptions:
        return self._options(self.url)

    @property
    def redirect_host(self) -> str | None:
        return URL(self.endpoint).host


def _kind_of(value: object) -> str:
    """The tag of a source (mapping from YAML, or a model): its ``kind``; else
    ``google_news`` for a source given as a search, ``feed`` for any other."""
    if isinstance(value, dict):
        kind = value.get("kind", "google_news" if "google_news" in value else "feed")
    else:
        kind = getattr(value, "kind", None)
    return f"kind[{kind}]" if isinstance(kind, str) else "?"  # (no name in error locations)


SOURCE_CONFIGS: dict[str, type[Model]] = {
    "feed": FeedSourceConfig,
    "html": HtmlSourceConfig,
    "sitemap": SitemapSourceConfig,
    "google_news": GoogleNewsSourceConfig,
    "auto": AutoSourceConfig,
}
SourceConfig = Annotated[
    Annotated[FeedSourceConfig, Tag("kind[feed]")]
    | Annotated[HtmlSourceConfig, Tag("kind[html]")]
    | Annotated[SitemapSourceConfig, Tag("kind[sitemap]")]
    | Annotated[GoogleNewsSourceConfig, Tag("kind[google_news]")]
    | Annotated[AutoSourceConfig, Tag("kind[auto]")],
    Discriminator(
        _kind_of,
        custom_error_type="source_kind",
        custom_error_message=f"unknown source kind (expected one of: {', '.join(SOURCE_CONFIGS)})",
    ),
]
