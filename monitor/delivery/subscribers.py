"""The effective subscribers (issue 24, DESIGN §3.8): the configuration's, each with what it
chose itself (an override kept in the store), and those who signed up (rows of the store).
The daemon swaps ``config.subscribers`` for this list when it builds its runtime, so nothing
downstream (routing, digests, notifiers, status) needs to know where a subscriber comes from.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from monitor.config.model import Config
from monitor.config.schedule import parse_schedule
from monitor.config.subscribers import SubscriberConfig
from monitor.core.logs import event
from monitor.digest.i18n import LANGUAGES
from monitor.store.subscribers import CHOSEN, Choice, mailbox

Origin = Literal["config", "choice"]  # where a value comes from
_LANGUAGES = frozenset(LANGUAGES)


@dataclass(frozen=True, slots=True)
class Effective:
    """One subscriber as the daemon serves it, and where each of :data:`CHOSEN` comes from."""

    subscriber: SubscriberConfig
    signed_up: bool = False
    origins: Mapping[str, Origin] = field(default_factory=dict)

    def origin(self, name: str) -> Origin:
        return self.origins.get(name, "config")


def _values(choice: Choice, rules: frozenset[str]) -> dict[str, Any]:
    """What ``choice`` sets, as SubscriberConfig values; a value the configuration no longer
    allows (a rule gone, an unknown schedule or language) is left out, and logged."""
    values: dict[str, Any] = {}
    if choice.rules is not None:
        values["rules"] = [rule for rule in choice.rules if rule in rules]
    if choice.digest is not None:
        try:
            values["digest"] = parse_schedule(choice.digest)
        except ValueError:
            event("choice-ignored", level=logging.WARNING, subscriber=choice.name, key="digest")
    if choice.language is not None:
        if choice.language in _LANGUAGES:
            values["language"] = choice.language
        else:
            event("choice-ignored", level=logging.WARNING, subscriber=choice.name, key="language")
    if choice.max_items is not None:
        values["max_items"] = max(1, min(1000, choice.max_items))
    return values


def _signed_up(choice: Choice, rules: frozenset[str]) -> SubscriberConfig:
    # validated under a configured-looking name, then given its own: a name a configuration
    # cannot hold ("signup:…"), so the two kinds never collide
    base = SubscriberConfig(name="signed-up", email=choice.address)
    return base.model_copy(update={"rules": [], **_values(choice, rules), "name": choice.name})


def effective(config: Config, choices: Sequence[Choice]) -> list[Effective]:
    """The configuration's subscribers, each with its override (when it was made for the address
    the configuration gives it now), then those who signed up (email subscribers: only with an
    ``smtp`` section to send through)."""
    rules = frozenset(rule.name for rule in config.rules)
    overrides = {c.name: c for c in choices if not c.signed_up}
    result = []
    for subscriber in config.subscribers:
        choice = overrides.get(subscriber.name)
        if choice is None or choice.address != subscriber.target:
            result.append(Effective(subscriber))
            continue
        values = _values(choice, rules)
        origins: dict[str, Origin] = {name: "choice" for name in values}
        result.append(Effective(subscriber.model_copy(update=values), False, origins))
    if config.smtp is not None:
        for choice in choices:
            if not choice.signed_up:
                continue
            try:
                subscriber = _signed_up(choice, rules)
            except ValueError as exc:  # (pydantic's too) one odd row never stops the daemon
                event(
                    "signed-up-refused",
                    level=logging.ERROR,
                    subscriber=choice.name,
                    error=str(exc).splitlines()[0],
                )
                continue
            origins = {name: "choice" for name in CHOSEN}
            result.append(Effective(subscriber, True, origins))
    return result


def owner(subscribers: Sequence[SubscriberConfig], address: str) -> str | None:
    """The name of the email subscriber, configured or signed up, at ``address`` (compared
    as :func:`mailbox`: whatever the case); None if none. An address is never subscribed
    twice (the sign-up page)."""
    wanted = mailbox(address)
    for subscriber in subscribers:
        if subscriber.email is None:
            continue
        try:
            if mailbox(subscriber.email) == wanted:
                return subscriber.name
        except ValueError:  # (a configured address this check finds odd: not this one)
            continue
    return None


def with_choices(config: Config, choices: Sequence[Choice]) -> Config:
    """``config`` serving its effective subscribers (:func:`effective`)."""
    if not choices:
        return config
    merged = [e.subscriber for e in effective(config, choices)]
    return config.model_copy(update={"subscribers": merged})
