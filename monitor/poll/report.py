"""What a poll reads when it starts (:class:`PollRuntime`) and what it reports when it ends
(:class:`PollReport`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from monitor.config.model import Config
from monitor.core.models import HubLink, PollResult
from monitor.delivery.routing import Router
from monitor.rules.matcher import Matcher


@dataclass(frozen=True, slots=True)
class PollReport:
    source: str
    result: PollResult
    new_items: int = 0  # items not seen before
    matched_items: int = 0  # of those, items at least one rule matched
    rule_hits: int = 0  # (item, rule) pairs: an item two rules matched counts twice
    error: str | None = None
    next_due_at: datetime | None = None  # None: not polled again until its URL changes
    hub: HubLink | None = None  # (result ok) where the feed says it is pushed (WebSub)
    # (result error) why no server answered: "name resolution", "timeout", … (monitor.poll.reach)
    unreachable: str | None = None


class PollRuntime(Protocol):
    """What a poll reads of the configuration in force (monitor.runtime.Runtime is one): taken
    once when the poll starts, so a reload meanwhile changes nothing of it."""

    @property
    def config(self) -> Config: ...
    @property
    def matcher(self) -> Matcher: ...
    @property
    def router(self) -> Router: ...
