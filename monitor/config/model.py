"""The whole configuration file's model (DESIGN §3.2), over one module per part.

Loading (with ``PATH:LINE:COL`` errors and ``${VAR}`` secrets) lives in ``monitor.config.load``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from monitor.config.base import Model
from monitor.config.rules import RuleConfig
from monitor.config.sections import (
    ClusterConfig,
    Defaults,
    HttpConfig,
    LimitsConfig,
    NetworkConfig,
    RetentionConfig,
    SmtpConfig,
)
from monitor.config.shared import share_parts
from monitor.config.sources import SourceConfig
from monitor.config.subscribers import (
    Language,
    SubscriberConfig,
)
from monitor.net.addresses import refused_urls

MAX_ZONE_NAME = 64  # characters; the longest IANA name has 32


class Config(Model):
    storage: str = "sqlite:///data/monitor.db"
    timezone: str = "Africa/Casablanca"
    language: Language = "fr"  # of digests, unless a subscriber says otherwise
    log_format: Literal["text", "json"] = "text"  # json: one object per line
    templates: str | None = None  # a folder of subject/text/html templates overriding ours
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    defaults: Defaults = Field(default_factory=Defaults)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    smtp: SmtpConfig | None = None
    http: HttpConfig | None = None  # no section: no server, mailto List-Unsubscribe only
    sources: list[SourceConfig] = Field(default_factory=list)
    rules: list[RuleConfig] = Field(default_factory=list)
    subscribers: list[SubscriberConfig] = Field(default_factory=list)
    # a YAML or CSV list of more subscribers, relative to the configuration file; its entries
    # are appended to ``subscribers`` when the configuration is loaded
    subscribers_file: str | None = None
    # an OPML or CSV list of more sources, likewise appended to ``sources``
    sources_file: str | None = None
    # where the sources' definitions live: ``config``, this file and its sources_file, which
    # every daemon holds whole; or ``store``, the store's table, written by ``monitor sources
    # load`` from sources_file, each replica reading those it claims only (issue 25: a
    # million sources across replicas). The table then decides which sources exist.
    sources_from: Literal["config", "store"] = "config"

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
    def _share_parts(self) -> Config:
        share_parts(self.sources)  # (100,000 sources: a quarter of their memory)
        return self

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
        for source in self.sources:
            secrets = [key for key in ("password", "headers") if getattr(source, key)]
            if secrets and source.url.lower().startswith("http://"):
                found.append(
                    f"sources.{source.name}: its {' and '.join(secrets)} would travel in clear "
                    "over http:// (use https if the site has it)"
                )
        found += self._refused_urls()
        return found

    def _refused_urls(self) -> list[str]:
        """Source and webhook URLs the address guard will refuse as they are written (an IP
        literal or a loopback name outside ``network.allow``): said now, not at the first poll.
        Names are not resolved here."""
        urls = [((f"source {s.name!r}", "fetch"), s.url) for s in self.sources]
        urls += [
            ((f"subscriber {s.name!r}", "deliver to"), s.webhook)
            for s in self.subscribers
            if s.webhook is not None
        ]
        return [
            f"{who}: {host} is not a public address and network.allow does not list it: "
            f"the daemon will refuse to {verb} it (if it is meant, add {', '.join(networks)} "
            "to network.allow)"
            for (who, verb), host, networks in refused_urls(urls, self.network.allow)
        ]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def interval_of(self, source: SourceConfig) -> timedelta:
        return source.interval or self.defaults.interval

    def source_tags(self) -> dict[str, list[str]]:
        """The tags of each source, for rules scoped by ``tags``."""
        return {source.name: source.tags for source in self.sources}
