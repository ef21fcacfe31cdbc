"""A subscriber as the configuration gives it (DESIGN §3.2): who, by which channel (``email``,
``webhook``, ``console``, ``apprise``: the key it carries), which rules, on which digest
schedule, in which language."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    SecretStr,
    field_validator,
    model_validator,
)

from monitor.config.base import Model, Name
from monitor.config.schedule import Schedule, parse_schedule
from monitor.config.types import HttpUrl

DigestSchedule = Annotated[Schedule, BeforeValidator(parse_schedule), PlainSerializer(str)]
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")


def _address(value: str) -> str:
    if not _ADDRESS.fullmatch(value):  # (said in words: the pattern would be pydantic's message)
        raise ValueError("not an email address: expected one address, like name@example.ma")
    return value


Address = Annotated[str, AfterValidator(_address)]


CHANNELS = ("email", "webhook", "console", "apprise")


WebhookFormat = Literal["generic", "slack", "discord", "teams", "mattermost", "ntfy", "telegram"]


Language = Literal["fr", "en", "ar"]  # of digests and notices (monitor.digest.i18n has the words)


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
    email: Address | None = None
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
