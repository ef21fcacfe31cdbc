"""The configuration: pydantic models of the YAML file (DESIGN §3.2).

Loading (with ``PATH:LINE:COL`` errors and ``${VAR}`` secrets) lives in ``monitor.config.load``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
from datetime import timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    field_validator,
    model_validator,
)

from monitor.config.base import Model, Name
from monitor.config.rules import RuleConfig
from monitor.config.schedule import Schedule, parse_schedule
from monitor.config.sources import SourceConfig
from monitor.config.types import Duration, HttpUrl, Interval, Size, Timeout, check_http_url
from monitor.core.units import format_duration

DigestSchedule = Annotated[Schedule, BeforeValidator(parse_schedule), PlainSerializer(str)]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class NetworkConfig(Model):
    allow: list[Network] = Field(default_factory=list)
    timeout: Timeout = timedelta(seconds=30)
    connect_timeout: Timeout = timedelta(seconds=10)
    max_bytes: Size = 10 * 1024 * 1024
    concurrency: int = Field(default=100, ge=1, le=10_000)
    per_host: int = Field(default=4, ge=1, le=1000)
    user_agent: str | None = None

    @field_validator("allow", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if not isinstance(value, list):
            return value
        return [ipaddress.ip_network(str(v), strict=False) for v in value]


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


class RetentionConfig(Model):
    """How long the store keeps what it saw."""

    # the text (summary, content) of items, for `monitor test-rule --backtest`; then pruned
    text: Annotated[Duration, AfterValidator(_a_day_or_more)] = timedelta(days=30)


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


class HttpConfig(Model):
    """The daemon's HTTP server: /healthz, /readyz, /metrics, and, when ``base_url``, its
    public address (usually an HTTPS reverse proxy in front of ``listen``), is given,
    one-click unsubscribe (RFC 8058) links and WebSub callbacks."""

    listen: str = "127.0.0.1:8080"
    base_url: str | None = None
    websub: WebSubConfig = WebSubConfig()

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


CHANNELS = ("email", "webhook", "console", "apprise")
WebhookFormat = Literal["generic", "slack", "discord", "teams", "mattermost", "ntfy", "telegram"]
Language = Literal["fr", "en"]


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after ``whsec_``."""
    if not secret.startswith("whsec_"):
        raise ValueError("a webhook secret starts with 'whsec_' (Standard Webhooks)")
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ValueError("a webhook secret is 'whsec_' followed by base64")
    return key


def channel_problem(present: list[str]) -> str | None:
    """What is wrong with the channels a subscriber carries, if anything."""
    if len(present) == 1:
        return None
    found = f" (found {', '.join(present)})" if present else ""
    return f"a subscriber needs exactly one of {', '.join(CHANNELS)}{found}"


class SubscriberConfig(Model):
    """One subscriber; its channel is the key it carries (``email``, ``webhook``, ``console``)."""

    name: Name
    email: str | None = Field(default=None, pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+$")
    webhook: HttpUrl | None = None
    console: Literal[True] | None = None
    apprise: SecretStr | None = (
        None  # an Apprise URL (pip install 'monitor[apprise]'); may hold a token
    )
    secret: SecretStr | None = None
    rules: list[str] | None = None  # None: every rule
    digest: DigestSchedule = Schedule("immediate")
    format: WebhookFormat = "generic"  # webhook body: §3.5 or a chat service's
    chat_id: str | None = None  # telegram: the chat the bot writes to
    language: Language | None = None  # None: the configuration's language
    max_items: int = Field(default=50, ge=1, le=1000)  # per digest; the rest wait for the next
    group_by: Literal["rule", "story"] = "rule"
    health: bool = False  # also receive a notice when a source breaks and when it recovers

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            webhook_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _one_channel(self) -> SubscriberConfig:
        problem = channel_problem([c for c in CHANNELS if getattr(self, c) is not None])
        if problem:
            raise ValueError(problem)
        if self.secret is not None and self.webhook is None:
            raise ValueError("'secret' only applies to a webhook subscriber")
        if self.format != "generic" and self.webhook is None:
            raise ValueError("'format' only applies to a webhook subscriber")
        if self.format != "generic" and self.secret is not None:
            raise ValueError(f"a {self.format} webhook is not signed: 'secret' is for generic")
        if (self.format == "telegram") != (self.chat_id is not None):
            raise ValueError("a telegram webhook needs 'chat_id', and only it takes one")
        return self

    @property
    def channel(self) -> str:
        return next(c for c in CHANNELS if getattr(self, c) is not None)

    @property
    def target(self) -> str:
        """Where digests go: the address, the URL, or "console"."""
        if self.apprise is not None:  # kept in the store: a digest of the URL, not its token
            return "apprise:" + hashlib.sha256(self.apprise.get_secret_value().encode()).hexdigest()
        return self.email or self.webhook or "console"


MAX_ZONE_NAME = 64  # characters; the longest IANA name has 32


class Config(Model):
    storage: str = "sqlite:///data/monitor.db"
    timezone: str = "Africa/Casablanca"
    language: Language = "fr"  # of digests, unless a subscriber says otherwise
    log_format: Literal["text", "json"] = "text"  # json: one object per line
    templates: str | None = None  # a folder of subject/text/html templates overriding ours
    network: NetworkConfig = NetworkConfig()
    defaults: Defaults = Defaults()
    limits: LimitsConfig = LimitsConfig()
    retention: RetentionConfig = RetentionConfig()
    cluster: ClusterConfig = ClusterConfig()
    smtp: SmtpConfig | None = None
    http: HttpConfig | None = None  # no section: no server, mailto List-Unsubscribe only
    sources: list[SourceConfig] = Field(default_factory=list)
    rules: list[RuleConfig] = Field(default_factory=list)
    subscribers: list[SubscriberConfig] = Field(default_factory=list)
    # a YAML or CSV list of more subscribers, relative to the configuration file; its entries
    # are appended to ``subscribers`` when the configuration is loaded
    subscribers_file: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if len(value) > MAX_ZONE_NAME:  # the file system would refuse the name (OSError)
            raise ValueError(f"unknown time zone {value[:40]!r}… ({len(value)} characters)")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgresql+asyncpg://")):
            raise ValueError("expected sqlite:///PATH or postgresql://USER@HOST/DB")
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_poll(self) -> Config:
        longest = self.network.timeout + self.limits.parse_timeout
        if self.cluster.lease <= longest:
            raise ValueError(
                f"cluster.lease must be longer than a poll can take (network.timeout + "
                f"limits.parse_timeout = {int(longest.total_seconds())}s), or another replica "
                "could poll the same source meanwhile"
            )
        return self

    def warnings(self) -> list[str]:
        """What is valid but unwise, for ``monitor check`` to say."""
        found = []
        if (
            self.smtp is not None
            and self.smtp.security == "none"
            and self.smtp.password is not None
        ):
            found.append(
                "smtp.security is none: the password would travel in clear to "
                f"{self.smtp.host}:{self.smtp.port} (use starttls or ssl)"
            )
        return found

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def interval_of(self, source: SourceConfig) -> timedelta:
        return source.interval or self.defaults.interval

    def source_tags(self) -> dict[str, list[str]]:
        """The tags of each source, for rules scoped by ``tags``."""
        return {source.name: source.tags for source in self.sources}
