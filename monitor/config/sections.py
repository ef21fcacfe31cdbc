"""The configuration's service sections (DESIGN §3.2): ``network``, ``limits``, ``defaults``,
``retention``, ``cluster``, ``smtp`` and ``http`` (with its WebSub settings)."""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.config.base import Model
from monitor.config.types import Duration, Interval, ProxyUrl, Size, Timeout, check_http_url
from monitor.core.units import format_duration
from monitor.net.options import no_proxy_entry

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NetworkConfig(Model):
    allow: list[Network] = Field(default_factory=list)
    timeout: Timeout = timedelta(seconds=30)
    connect_timeout: Timeout = timedelta(seconds=10)
    max_bytes: Size = 10 * 1024 * 1024
    concurrency: int = Field(default=100, ge=1, le=10_000)
    per_host: int = Field(default=4, ge=1, le=1000)
    user_agent: str | None = None
    # an http:// forward proxy for feeds, pages, hubs and webhooks but those to no_proxy's
    # hosts (a source's own proxy: wins); ${HTTP_PROXY} may be written here: the environment
    # is not read itself
    proxy: ProxyUrl | None = Field(default=None, repr=False)  # (it may hold a password)
    # hosts and domains (with their subdomains), addresses and networks reached directly, or
    # *; a list, or one comma-separated text (no_proxy: ${NO_PROXY})
    no_proxy: list[Annotated[str, AfterValidator(no_proxy_entry)]] = Field(default_factory=list)

    @field_validator("allow", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        return [ipaddress.ip_network(str(v), strict=False) for v in value]

    @field_validator("no_proxy", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):  # NO_PROXY's own form
            return [entry for entry in value.split(",") if entry.strip()]
        return value


class LimitsConfig(Model):
    """Bounds on the work one poll may cost, whatever the source sends."""

    parse_timeout: Timeout = timedelta(seconds=20)  # CPU time of one parse, in a worker process
    parse_memory: Size = 512 * 1024 * 1024  # address space of the parse worker
    max_items: int = Field(default=2000, ge=1, le=1_000_000)  # entries read from one document
    # parse worker processes at most (the first starts with the daemon, the others when polls
    # wait for one): by default one per core, up to 4
    parse_workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 4), ge=1, le=64)


class Defaults(Model):
    interval: Interval = timedelta(minutes=15)
    backfill: Duration = timedelta(hours=24)
    # a source failing this long, or silent longer than its rhythm and this, is notified
    health_after: Timeout = timedelta(hours=24)


def _a_day_or_more(value: timedelta) -> timedelta:
    if value < MIN_RETENTION:
        raise ValueError(f"must be at least 1d (got {format_duration(value)})")
    return value


MIN_RETENTION = timedelta(days=1)
# an item's row is kept at least this long: a source polled weekly still sees its items within
# the window, and an item still in its feed is marked seen again (daily) well before it ends
MIN_SEEN = timedelta(days=7)


class RetentionConfig(Model):
    """How long the store keeps what it saw."""

    # the text (summary, content) of items, for `monitor test-rule --backtest`; then pruned
    text: Annotated[Duration, AfterValidator(_a_day_or_more)] = timedelta(days=30)
    # the rows of items last seen (in their feed) longer ago than this; a compact record of
    # their identity stays, so nothing is alerted twice (monitor.store.seen_window)
    seen: Duration = timedelta(days=90)

    @field_validator("seen")
    @classmethod
    def _seen_window(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        if value < MIN_SEEN:
            raise ValueError(f"must be at least 7d (got {format_duration(value)})")
        text = info.data.get("text")
        if isinstance(text, timedelta) and value < text:
            shown = format_duration(text)
            raise ValueError(
                f"must be at least retention.text ({shown}): got {format_duration(value)}"
            )
        return value

    @model_validator(mode="after")
    def _seen_covers_text(self) -> RetentionConfig:
        # a text kept longer than the default window, the window not written: the text's
        if "seen" not in self.model_fields_set and self.seen < self.text:
            return self.model_copy(update={"seen": self.text})
        return self


class ClusterConfig(Model):
    """Replicas over one PostgreSQL store share the work through leases (monitor.store.leases):
    a source or a subscriber is worked on by the replica holding its lease, and the work of a
    replica that died is taken over when its leases expire."""

    lease: Timeout = timedelta(minutes=2)


class SmtpConfig(Model):
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_: str = Field(alias="from")
    timeout: Timeout = timedelta(seconds=30)
    connections: int = Field(default=4, ge=1, le=100)  # kept open and reused, at most this many

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6) into its parts; port 0 picks a free one."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, e.g. 127.0.0.1:8080 (got {value!r})")
    return host, int(port)


class WebSubConfig(Model):
    """Push (WebSub): a feed that names a hub is subscribed to at ``base_url``/websub/…, and
    polled only every ``poll_every`` (or its own interval, if longer) while the hub delivers."""

    enabled: bool = True
    lease: Timeout = timedelta(days=10)  # asked of hubs (they may grant another); renewed before
    poll_every: Interval = timedelta(hours=1)  # the check that the hub has missed nothing

    @field_validator("lease")
    @classmethod
    def _an_hour_or_more(cls, value: timedelta) -> timedelta:
        if value < timedelta(hours=1):  # each renewal is a request, and a verification
            raise ValueError("a lease is at least 1h")
        return value


# The line `monitor password` prints: argon2id, its parameters, salt and hash (PHC format).
_ARGON2ID = re.compile(r"\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+")


def _argon2id(value: SecretStr) -> SecretStr:
    if _ARGON2ID.fullmatch(value.get_secret_value().strip()) is None:
        raise ValueError("not a password hash: give the line `monitor password` prints")
    return SecretStr(value.get_secret_value().strip())


class AppUser(Model):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[^\s\x00-\x1f\x7f]+$")
    # the argon2id hash line, never the password itself; a SecretStr: never printed
    password: Annotated[SecretStr, AfterValidator(_argon2id)]


class AppConfig(Model):
    """The analysts' web app (DESIGN §3.7), served when present."""

    session: Annotated[Duration, AfterValidator(lambda v: _at_least(v, timedelta(minutes=1)))] = (
        timedelta(hours=12)
    )
    users: list[AppUser] = Field(min_length=1)

    @field_validator("users")
    @classmethod
    def _unique(cls, users: list[AppUser]) -> list[AppUser]:
        names = [user.name for user in users]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"user named twice: {', '.join(twice)}")
        return users


def _at_least(value: timedelta, least: timedelta) -> timedelta:
    if value < least:
        raise ValueError(f"must be at least {format_duration(least)}")
    return value


class SignupConfig(Model):
    """The subscribers' own pages (DESIGN §3.8): ``/subscribe`` and ``/preferences/TOKEN``,
    served when present."""

    rules: list[str] = Field(min_length=1)  # the rules (topics) a visitor may subscribe to

    @field_validator("rules")
    @classmethod
    def _unique(cls, rules: list[str]) -> list[str]:
        twice = sorted({name for name in rules if rules.count(name) > 1})
        if twice:
            raise ValueError(f"rule named twice: {', '.join(twice)}")
        return rules


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        example = "192.0.2.1, 10.0.0.0/8"
        raise ValueError(f"{value!r} is not an IP address or network ({example})") from None
    return value


class HttpConfig(Model):
    """The daemon's HTTP server: /healthz, /readyz, /metrics, and, when ``base_url``, its
    public address (usually an HTTPS reverse proxy in front of ``listen``), is given,
    one-click unsubscribe (RFC 8058) links and WebSub callbacks."""

    listen: str = "127.0.0.1:8080"
    base_url: str | None = None
    websub: WebSubConfig = Field(default_factory=WebSubConfig)
    app: AppConfig | None = None  # the web app: off unless present
    signup: SignupConfig | None = None  # the subscribers' own pages: off unless present
    # reverse proxies whose X-Forwarded-For is believed (the client address of a sign-up)
    trusted_proxies: list[Annotated[str, AfterValidator(_network)]] = Field(default_factory=list)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value).rstrip("/")

    @property
    def address(self) -> tuple[str, int]:
        return parse_listen(self.listen)

    @property
    def websub_callbacks(self) -> str | None:
        """Where hubs deliver (``…/websub``); None when push is off or has no public address."""
        if self.base_url is None or not self.websub.enabled:
            return None
        return f"{self.base_url}/websub"
