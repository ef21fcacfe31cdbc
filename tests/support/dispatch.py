"""The dispatcher tests' clock and zone, and the configuration a dispatcher reads when no
daemon hands it one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config.subscribers import SubscriberConfig
from monitor.notifiers.base import Notifier

CASA = ZoneInfo("Africa/Casablanca")  # UTC+1 in November 2026


T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 10:00 in Casablanca


@dataclass(frozen=True, slots=True)
class Senders:
    """A dispatcher's SendRuntime without a daemon (monitor.delivery.dispatch)."""

    subscribers: Mapping[str, SubscriberConfig]
    notifiers: Mapping[str, Notifier]
    zone: ZoneInfo
    lease: timedelta = timedelta(minutes=2)
