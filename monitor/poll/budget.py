"""How long one poll may go on starting requests. A poll may fetch several documents (a sitemap
index's sitemaps, the addresses where a home page's feed may be, its new items' pages); each one
started must end, with its parse, before the source's lease does (``cluster.lease``), or another
replica could take the source and poll it too. The lease is checked against one request and one
parse at load (monitor.config.model), so the first fetch of a poll always fits."""

from __future__ import annotations

import time
from dataclasses import dataclass

from monitor.config.model import Config

MARGIN = 5.0  # seconds kept between the latest end of a poll and the end of its lease


@dataclass(frozen=True, slots=True)
class PollBudget:
    ends: float  # monotonic time by which the poll must be over
    step: float  # seconds one request and its parse can take at most

    @classmethod
    def of(cls, config: Config, started: float) -> PollBudget:
        step = config.network.timeout + config.limits.parse_timeout
        return cls(started + config.cluster.lease.total_seconds() - MARGIN, step.total_seconds())

    def allows(self) -> bool:
        """Whether one more request, and its parse, surely end in time."""
        return time.monotonic() + self.step <= self.ends


UNLIMITED = PollBudget(float("inf"), 0.0)  # for one-off commands: no lease to outlast
