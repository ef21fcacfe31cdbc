"""The notifier registry: one line per channel, keyed by the key a subscriber carries (§2)."""

from __future__ import annotations

from collections.abc import Callable

from monitor.config.subscribers import SubscriberConfig
from monitor.notifiers.apprise import AppriseNotifier
from monitor.notifiers.base import Notifier, NotifierContext
from monitor.notifiers.console import ConsoleNotifier
from monitor.notifiers.email import EmailNotifier
from monitor.notifiers.webhook import WebhookNotifier

NOTIFIER_KINDS: dict[str, Callable[[SubscriberConfig, NotifierContext], Notifier]] = {
    "email": EmailNotifier,
    "webhook": WebhookNotifier,
    "console": ConsoleNotifier,
    "apprise": AppriseNotifier,
}


def build_notifier(subscriber: SubscriberConfig, context: NotifierContext) -> Notifier:
    """The notifier for ``subscriber``'s channel (config validation guarantees exactly one)."""
    return NOTIFIER_KINDS[subscriber.channel](subscriber, context)


__all__ = ["NOTIFIER_KINDS", "Notifier", "NotifierContext", "build_notifier"]
