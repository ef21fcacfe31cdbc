"""Whether the daemon reaches any source at all. With no network (no DNS, a proxy needed, a
firewall) every poll fails and each source backs off on its own; after the first round of polls
one line says so, and what to check, instead of leaving a dozen resolve errors to be read."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from monitor.core.errors import FetchTimeout, SourceError, Unreachable
from monitor.core.logs import event
from monitor.poll.report import PollReport

CHECK = "the network, its DNS, or a proxy it needs (network.proxy); 'make demo' runs offline"


def unreachable(exc: SourceError) -> str | None:
    """Why no server answered ``exc``'s request (``name resolution``, ``connection refused``,
    ``no route``, ``timeout``); None when one did (an HTTP error, a body that is not a feed)
    or when the request was never made (the address guard refused it)."""
    if isinstance(exc, Unreachable):
        return exc.reason
    if isinstance(exc, FetchTimeout):
        return "timeout"
    return None


@dataclass
class FirstRound:
    """Watches the polls from the start until each of ``sources`` has been polled once, or
    one of them twice (a restart finds some sources not due yet), and logs one line then if
    every one of them failed without an answer. A poll that got an answer ends the watch."""

    sources: frozenset[str]
    failed: dict[str, str] = field(default_factory=dict)  # source: why no server answered
    over: bool = False

    def observe(self, report: PollReport) -> None:
        if self.over or report.source not in self.sources:
            return
        if report.unreachable is None:  # a server answered (or a hub delivered)
            self.over, self.sources = True, frozenset()
            return
        if report.source in self.failed:  # polled again before the others were polled once
            self._end()
            return
        self.failed[report.source] = report.unreachable
        if len(self.failed) == len(self.sources):
            self._end()

    def _end(self) -> None:
        self.over = True
        self.sources = frozenset()  # (100,000 names: 4 MB held for nothing once over)
        reasons = Counter(self.failed.values()).most_common()
        event(
            "no-source-reachable",
            level=logging.WARNING,
            polled=len(self.failed),  # every one of them failed
            errors=", ".join(f"{reason} ({count})" for reason, count in reasons),
            check=CHECK,
        )
