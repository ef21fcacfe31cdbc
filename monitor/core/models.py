"""Plain frozen values passed between the steps of the pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, NamedTuple

# The fields a rule can look at, in the order they are reported.
FIELDS: tuple[str, ...] = ("title", "summary", "content")


# what a poll came to (PollReport, PollOutcome, a source's last_result in the store)
PollResult = Literal["ok", "not-modified", "unchanged", "error", "pushed"]
# a source's health (monitor.poll.health)
HealthState = Literal["ok", "failing", "silent"]
OK: Final = "ok"
FAILING: Final = "failing"
SILENT: Final = "silent"
# where an item owed to a subscriber stands (the outbox)
DeliveryState = Literal["pending", "failed", "sent", "dead"]
# what became of one digest sent (monitor.delivery.dispatch)
SendResult = Literal["sent", "retry", "dead", "disabled"]

# the keys of source-health notices, stored as items beside the feeds' (monitor.poll.health)
NOTICE_KEY_PREFIX = "health:"


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry as a parser read it: text may still be HTML, nothing is canonical yet."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    published: datetime | None


@dataclass(frozen=True, slots=True)
class Item:
    """A normalized entry: plain text, canonical link and its identity within its source."""

    source: str
    key: str  # identity within the source (§3.4)
    link: str  # canonical link, "" when the entry has none
    title: str
    summary: str
    content: str
    published: datetime | None  # aware UTC, clamped to the fetch time

    @property
    def article(self) -> str:
        """Identity across sources: one article reaches a subscriber once, ever."""
        return self.link or f"{self.source}\x1f{self.key}"

    def fields(self) -> Mapping[str, str]:
        return {"title": self.title, "summary": self.summary, "content": self.content}


class Hit(NamedTuple):
    """Where a term was found: the term as configured, the field, and the character span in
    that field's plain text. (Named tuples, as Match: the matcher makes a few per item and
    per rule that fires, and a tuple is made several times faster than a frozen dataclass.)"""

    term: str
    field: str
    start: int
    end: int


class Match(NamedTuple):
    """A rule that fired on an item: the configured terms that made it fire, and where."""

    rule: str
    terms: tuple[str, ...]
    hits: tuple[Hit, ...] = ()


@dataclass(frozen=True, slots=True)
class DigestItem:
    id: str
    title: str
    link: str
    source: str
    published: datetime | None
    summary: str
    rules: tuple[str, ...]
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # where each rule found its terms, (rule, hit); None when not recorded (deliveries from
    # before explanations were stored, samples): the terms are then looked for again
    hits: tuple[tuple[str, Hit], ...] | None = None
    content: str = ""  # kept for a snippet when the terms were found in the content only


# how many items still owed a digest counts (monitor.store.outbox): a backlog is not read whole
WAITING_COUNTED = 10_000


@dataclass(frozen=True, slots=True)
class Digest:
    """What one delivery carries; ``id`` is stable across retries of the same digest."""

    id: str
    subscriber: str
    created: datetime  # aware UTC
    items: tuple[DigestItem, ...]
    # items still owed to the subscriber beyond this digest (max_items), counted up to
    # WAITING_COUNTED: a larger figure means "more than WAITING_COUNTED"
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the store remembers of a source between polls (scheduling lives in the store)."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    first_poll_at: datetime | None = None
    last_poll_at: datetime | None = None
    next_due_at: datetime | None = None
    error_count: int = 0
    last_result: PollResult | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_new_items: int = 0
    last_matches: int = 0
    redirect_url: str | None = None  # where the last polls were permanently redirected
    redirect_count: int = 0  # how many consecutive polls were
    gone_at: datetime | None = None  # answered 410 Gone
    health: HealthState = OK
    health_since: datetime | None = None  # when that began (for ok: when it recovered)
    # whether the store holds any item of it: when not, nothing of a poll was seen before
    has_items: bool = True
    failing_since: datetime | None = None  # the first failure of the current run of failures
    # the last poll that read its document (result ok): the items read then are still in the
    # feed while it answers 304 or the same bytes (monitor.store.seen_window)
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """Where a source is polled, after following lasting permanent redirects."""

    url: str
    redirect_url: str | None = None
    redirect_count: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One item owed to one subscriber, with the subscriber's rules that matched it."""

    subscriber: str
    item_key: str
    rules: tuple[str, ...]
    terms: Mapping[str, tuple[str, ...]]
    hits: tuple[tuple[str, Hit], ...] = ()  # (rule, hit)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """Everything a successful poll writes, in one transaction."""

    source: str
    at: datetime
    result: Literal["ok", "not-modified", "unchanged"]
    status: int | None
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    next_due_at: datetime
    location: Location | None = None  # None: unchanged
    items: tuple[Item, ...] = ()
    matches: Mapping[str, tuple[Match, ...]] = field(default_factory=dict)  # by item key
    deliveries: tuple[Delivery, ...] = ()
    hub: HubLink | None = None  # where the feed read says it is pushed (not recorded here)
    seconds: float | None = None  # how long the poll took, fetch to record (the poll log's)
    # by item key: the words of its title and of its text for search, as the poll folded them
    # (monitor.poll.words); the store folds those of an item missing here itself
    words: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # keys of items seen before and read again, whose mark as still in the feed is a day old:
    # marked again (the seen-window prunes no item still in its feed, monitor.store.seen_window)
    sighted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class News:
    """The new items read from a source, with their matches and what they owe subscribers: a
    poll records them within its PollOutcome, a hub's delivery (WebSub) alone, the source's
    polling state (validators, due time, errors) being the polls'."""

    source: str
    at: datetime
    items: tuple[Item, ...] = ()
    matches: Mapping[str, tuple[Match, ...]] = field(default_factory=dict)  # by item key
    deliveries: tuple[Delivery, ...] = ()
    words: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # as PollOutcome's
    sighted: tuple[str, ...] = ()  # as PollOutcome's


@dataclass(frozen=True, slots=True)
class HubLink:
    """Where a feed says it is pushed (WebSub): its hub, and its own address (the topic)."""

    hub: str
    topic: str


@dataclass(frozen=True, slots=True)
class PollFailure:
    """Everything a failed poll writes: one more consecutive error."""

    source: str
    at: datetime
    status: int | None
    error: str
    next_due_at: datetime
    gone: bool = False  # 410 Gone: not polled again until its configured URL changes
    seconds: float | None = None  # how long the poll took, fetch to record (the poll log's)


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # the final URL, after redirects
    status: int
    body: bytes  # decoded (gunzipped), at most network.max_bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    # The final URL when the request was redirected and every hop was a 301 or 308 (the
    # source has moved for good); None without redirects or when any hop was temporary.
    permanent_redirect: str | None = None
    hub: HubLink | None = None  # the WebSub hub its Link header names (over the body's)


# what the store's state is at a metrics scrape (monitor.store.gauges reads it)
@dataclass(frozen=True, slots=True)
class SourcePolled:
    name: str
    last_poll_at: datetime | None
    last_result: str | None
    failing_since: datetime | None


@dataclass(frozen=True, slots=True)
class Gauges:
    owed: Mapping[str, int]  # outbox rows pending (up to a bound) and of dead digests
    oldest_pending: datetime | None  # the creation of the oldest item still owed
    dead_digests: int
    sources: Sequence[SourcePolled]  # the stalest polled ones (monitor.store.gauges)
    polled: int = 0  # sources polled: configured, not gone
    overdue: int = 0  # of them, due over a minute ago
