"""Prometheus metrics of one daemon (``GET /metrics``), through prometheus-client.

Counters are kept by this process as it polls and sends (a replica counts its own work); the
state of the store (deliveries by state, the age of the oldest owed item, dead letters, each
source's lag) is read from the store at each scrape, so every replica reports the same,
whole-cluster figures for it.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitor.core.models import Gauges, PollResult, SendResult

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.polls = Counter(
            "monitor_polls", "Polls by result.", ["result"], registry=registry
        )  # ok | not-modified | unchanged | error
        self.poll_seconds = Histogram(
            "monitor_poll_duration_seconds",
            "Time of one poll: fetch, parse, match and record.",
            buckets=_LATENCY,
            registry=registry,
        )
        self.fetch_seconds = Histogram(
            "monitor_fetch_duration_seconds",
            "Time of one successful HTTP fetch, body included.",
            buckets=_LATENCY,
            registry=registry,
        )
        self.pushes = Counter(
            "monitor_pushes", "Deliveries of WebSub hubs recorded.", registry=registry
        )
        self.items = Counter("monitor_items", "New items seen.", registry=registry)
        self.matches = Counter("monitor_matches", "Rule matches on new items.", registry=registry)
        self.sends = Counter(
            "monitor_deliveries", "Digest send attempts by result.", ["result"], registry=registry
        )  # sent | retry | dead | disabled
        self.owed = Gauge(
            "monitor_outbox_items",
            "Items owed to subscribers (pending, counted up to 100,001) and given up (dead).",
            ["state"],
            registry=registry,
        )  # fmt: skip
        self.outbox_age = Gauge(
            "monitor_outbox_oldest_pending_seconds",
            "Age of the oldest item not yet delivered (0 when none).",
            registry=registry,
        )
        self.dead = Gauge("monitor_dead_letters", "Digests given up on.", registry=registry)
        self.lag = Gauge(
            "monitor_source_lag_seconds",
            "Now minus the source's last successful poll (or its first failure): the "
            "1,000 sources due the longest ago.",
            ["source"],
            registry=registry,
        )
        self.polled = Gauge(
            "monitor_sources",
            "Sources polled (configured, not gone), counted each minute.",
            registry=registry,
        )
        self.overdue = Gauge(
            "monitor_sources_overdue", "Sources due over a minute ago.", registry=registry
        )

    def poll(self, result: PollResult, seconds: float, items: int, matches: int) -> None:
        self.polls.labels(result).inc()
        self.poll_seconds.observe(seconds)
        self.items.inc(items)
        self.matches.inc(matches)

    def push(self, items: int, matches: int) -> None:
        self.pushes.inc()
        self.items.inc(items)
        self.matches.inc(matches)

    def send(self, result: SendResult) -> None:
        self.sends.labels(result).inc()

    def render(self, gauges: Gauges, now: datetime) -> bytes:
        """The metrics text, with the store's state as read just before (monitor.store.gauges)."""
        for state in ("pending", "dead"):  # (not sent: every row ever sent, a scan each scrape)
            self.owed.labels(state).set(gauges.owed.get(state, 0))
        oldest = gauges.oldest_pending
        self.outbox_age.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        self.dead.set(gauges.dead_digests)
        self.polled.set(gauges.polled)
        self.overdue.set(gauges.overdue)
        self.lag.clear()  # sources removed, or no longer among the most overdue, disappear
        for source in gauges.sources:
            failing = source.last_result == "error"
            since = source.failing_since if failing else source.last_poll_at
            if since is not None:
                self.lag.labels(source.name).set(max(0.0, (now - since).total_seconds()))
        return generate_latest(self.registry)
