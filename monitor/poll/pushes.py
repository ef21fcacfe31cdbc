"""What a poll asks of WebSub push (monitor.push, the layer above, hands its own in): which
sources a hub delivers, how often those are still polled, whether a hub missed an item a poll
found, and the hub each feed names."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from monitor.core.models import HubLink


class Pushes(Protocol):
    @property
    def delivering(self) -> frozenset[str]:
        """The sources whose hub delivers (their polls are rarer)."""
        ...

    @property
    def links(self) -> Mapping[str, HubLink]:
        """The hub the store says each source names."""
        ...

    def poll_interval(self, interval: timedelta) -> timedelta:
        """A delivered source's interval, for ``interval`` configured."""
        ...

    async def pushed_since(self, source: str, since: datetime | None) -> bool: ...

    async def missed(self, source: str) -> None:
        """The hub missed an item a poll found: ``source`` is polled on its interval again."""
        ...

    async def noticed(self, source: str, link: HubLink | None) -> None:
        """A poll read that ``source`` names ``link`` (or no hub)."""
        ...
