"""Which subscriber gets which matched item: the subscriber's rules intersected with the matches."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from monitor.config.subscribers import SubscriberConfig
from monitor.core.models import Delivery, Match


class Router:
    def __init__(
        self, subscribers: Sequence[SubscriberConfig], unsubscribed: Collection[str] = ()
    ) -> None:
        # an unsubscribed subscriber is owed nothing new (RFC 8058 one-click unsubscribe)
        self.wanted = {
            s.name: None if s.rules is None else frozenset(s.rules)
            for s in subscribers
            if s.name not in unsubscribed
        }

    def route(self, matches: Mapping[str, Sequence[Match]]) -> list[Delivery]:
        """One delivery per (subscriber, item) whose matches include a rule it follows."""
        deliveries = []
        for key, found in matches.items():
            for name, wanted in self.wanted.items():
                mine = [m for m in found if wanted is None or m.rule in wanted]
                if mine:
                    deliveries.append(
                        Delivery(
                            subscriber=name,
                            item_key=key,
                            rules=tuple(m.rule for m in mine),
                            terms={m.rule: m.terms for m in mine},
                            hits=tuple((m.rule, hit) for m in mine for hit in m.hits),
                        )
                    )
        return deliveries
