"""The schema, as SQLAlchemy Core tables shared by SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    literal_column,
    or_,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the backend keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

sources = Table(
    "sources",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("url", Text, nullable=False),  # what is polled: moves after lasting 301/308s
    # what the configuration says the source is (SourceConfig.config_key: a URL, or a search)
    Column("config_key", Text, nullable=False),
    Column("redirect_url", Text),  # where the last polls were permanently redirected
    Column("redirect_count", Integer, nullable=False, default=0),  # consecutive such polls
    Column("gone_at", UTCDateTime),  # answered 410 Gone: not polled until its URL changes
    Column("etag", Text),
    Column("last_modified", Text),
    Column("content_hash", String(64)),
    Column("first_poll_at", UTCDateTime),  # null until the first successful poll (backfill)
    Column("last_poll_at", UTCDateTime),
    Column("next_due_at", UTCDateTime),  # a new source: when it was added (v0008; null before)
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_result", String(20)),  # ok | not-modified | unchanged | error
    Column("last_status", Integer),
    Column("last_error", Text),
    Column("last_new_items", Integer, nullable=False, default=0),
    Column("last_matches", Integer, nullable=False, default=0),
    # source health (monitor.poll.health): ok | failing | silent, since when, and the first failure
    # of the current run of failures
    Column("health", String(10), nullable=False, server_default="ok"),
    Column("health_since", UTCDateTime),
    Column("failing_since", UTCDateTime),
    # the replica polling it, until when (monitor.store.leases)
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime),
    # no longer in the configuration (its items stay: if it comes back, nothing is new twice)
    Column("removed_at", UTCDateTime),
    # polls recorded so far: numbers them in poll_log (v0012)
    Column("polls", Integer, nullable=False, server_default="0"),
    # the last poll that read its document, not a 304 nor the same bytes (v0016): its items
    # then are still in its feed since (monitor.store.seen_window)
    Column("read_at", UTCDateTime),
    # its validated entry as JSON when the store holds the definitions (``sources_from:
    # store``, monitor.store.definitions); null when the configuration does (v0017)
    Column("definition", Text),
    # the due sources in the claim's order, at every claim (v0008; with the name, v0019)
    Index("ix_sources_due", "next_due_at", "name"),
)

# each source's tags as its stored definition has them (sources_from: store, v0018), written by
# a load: the web app's tag filter and tag list read them by the index, not every definition
source_tags = Table(
    "source_tags",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("tag", String(200), primary_key=True),
    Index("ix_source_tags_tag", "tag", "source"),
)

# The last POLL_LOG polls of each source (its page, /sources/NAME), as a ring: poll number n
# takes slot n % POLL_LOG, replacing the poll POLL_LOG before it, so the log stays bounded with
# nothing to prune, whatever the number of sources (monitor.store.polls writes it, v0012).
POLL_LOG = 50
poll_log = Table(
    "poll_log",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("slot", Integer, primary_key=True),  # seq % POLL_LOG
    Column("seq", Integer, nullable=False),  # the source's poll number (sources.polls)
    Column("at", UTCDateTime, nullable=False),
    Column("result", String(20), nullable=False),  # ok | not-modified | unchanged | error
    Column("status", Integer),  # HTTP status, when a server answered
    Column("duration_ms", Integer),  # fetch to record; null when not measured
    Column("new_items", Integer, nullable=False),
    Column("error", Text),  # in words, as sources.last_error
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("key", String(600), nullable=False),
    Column("article", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),  # '' once pruned (monitor.store.retention)
    # plain text, capped; NULL on rows from before v0005 and once pruned (retention.text)
    Column("content", Text),
    Column("published", UTCDateTime),
    Column("seen_at", UTCDateTime, nullable=False),
    # the keyed words of the title and of the text, as the search index reads them (v0013,
    # monitor.store.search); text_words is emptied with the text when it is pruned
    Column("title_words", Text, nullable=False, server_default=""),
    Column("text_words", Text, nullable=False, server_default=""),
    # the last poll that found it still in its feed, written at most daily (v0016,
    # monitor.store.seen_window); null: not since ``seen_at``
    Column("last_seen_at", UTCDateTime),
    UniqueConstraint("source", "key", name="uq_items_source_key"),
    Index("ix_items_seen_at", "seen_at"),
    Index("ix_items_source_id", "source", "id"),  # a source's items, newest first (v0012)
)

# The items whose text is still kept: a pruned row has content NULL and summary ''. The literal
# '' (not a bound parameter) lets SQLite and PostgreSQL match this predicate to the partial
# index below, which holds only the items a prune may still have to clear.
TEXT_KEPT = or_(items.c.content.is_not(None), items.c.summary != literal_column("''"))
Index(
    "ix_items_text_kept",
    items.c.seen_at,
    sqlite_where=TEXT_KEPT,
    postgresql_where=TEXT_KEPT,
)

matches = Table(
    "matches",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("rule", String(100), primary_key=True),
    Column("terms", JSON, nullable=False),
    Index("ix_matches_rule", "rule", "item_id"),  # a rule's feed, newest first (v0011)
)

# What stays of items past ``retention.seen`` once their row is gone (v0016,
# monitor.store.seen_window): a 64-bit hash of each one's identity (source, key), and of each
# article a subscriber was sent ((subscriber, article): not sent again from another source),
# with the day (since 1970) it was last seen, or sent. No rowid on SQLite: the hash is the key.
seen_keys = Table(
    "seen_keys",
    metadata,
    Column("hash", BigInteger, primary_key=True, autoincrement=False),
    Column("day", Integer, nullable=False),
    sqlite_with_rowid=False,
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("since", UTCDateTime, nullable=False),
    Column("last_digest_at", UTCDateTime),  # the last time a digest period was closed
    Column("target", Text),  # email address or webhook URL: a new one lifts a disablement
    Column("disabled_at", UTCDateTime),  # the receiver said it is gone (webhook 410)
    Column("disabled_reason", Text),
    # one-click unsubscribe (RFC 8058): nothing is sent until its address changes
    Column("unsubscribed_at", UTCDateTime),
    # the replica forming and sending its digests, until when (monitor.store.leases)
    Column("lease_owner", String(100)),
    Column("lease_until", UTCDateTime),
    # when ``target`` last changed (v0014): a link issued before names an older address (legacy
    # tokens, monitor.web.unsubscribe); null: unchanged since v0014
    Column("target_since", UTCDateTime),
    # no digest is formed nor sent before then: what is owed waits (v0014, the subscriber's pause)
    Column("paused_until", UTCDateTime),
)

# What subscribers chose themselves (v0014, monitor.store.subscribers): a row per subscriber who
# signed up (``signed_up``: its whole definition), or per subscriber of the configuration that
# changed a value on its preferences page (an override; null: the configuration's value). An
# override holds for ``address``: the configuration giving that subscriber another address drops
# it. Subscribers who signed up are email subscribers named "signup:" and an id (never a name
# the configuration can give).
subscriber_choices = Table(
    "subscriber_choices",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("address", Text, nullable=False),  # normalised (monitor.store.subscribers.normal)
    Column("mailbox", Text, nullable=False),  # ``address`` case-folded: compared on (.mailbox)
    Column("signed_up", Boolean, nullable=False),
    Column("rules", JSON),  # [rule, …]
    Column("digest", String(40)),  # a schedule as the configuration writes it
    Column("language", String(10)),
    Column("max_items", Integer),
    Column("changed_at", UTCDateTime, nullable=False),
)
# one signed-up subscriber per address, whatever its case
Index(
    "uq_subscriber_choices_signed_up",
    subscriber_choices.c.mailbox,
    unique=True,
    sqlite_where=subscriber_choices.c.signed_up,
    postgresql_where=subscriber_choices.c.signed_up,
)

# Sign-ups waiting for their confirmation (v0015, monitor.store.signups): a row per address,
# what it asked for and when its confirmation emails went (the per-address limits); forgotten
# PENDING (48 h) after the last email
signup_requests = Table(
    "signup_requests",
    metadata,
    Column("mailbox", Text, primary_key=True),  # ``address`` case-folded: the limits' key
    Column("address", Text, nullable=False),  # normalised (monitor.store.subscribers), as given
    Column("code", String(64), nullable=False),  # SHA-256 of the last link's secret, hex
    Column("rules", JSON, nullable=False),
    Column("digest", String(40), nullable=False),
    Column("language", String(10), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),  # the last confirmation email
    Column("day_start", UTCDateTime, nullable=False),  # the first email of the current day
    Column("day_count", Integer, nullable=False),  # emails since ``day_start``
    Column("refused_at", UTCDateTime),  # the receiver refused it for good (5xx): none sent since
)

settings = Table(
    "settings",
    metadata,
    Column("name", String(100), primary_key=True),  # e.g. the unsubscribe token key
    Column("value", Text, nullable=False),
)

digests = Table(
    "digests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("subscriber", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("state", String(10), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime),
    Index("ix_digests_state_next", "state", "next_attempt_at"),
    # a subscriber's pending digests, whose rows it is owed besides the one sent (v0019)
    Index("ix_digests_subscriber_state", "subscriber", "state"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber", String(100), nullable=False),
    Column("article", Text, nullable=False),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("rules", JSON, nullable=False),
    Column("terms", JSON, nullable=False),
    Column("digest_id", String(40), ForeignKey("digests.id")),
    Column("state", String(10), nullable=False),  # pending | sent | dead
    Column("created_at", UTCDateTime, nullable=False),
    # match explanations: [[rule, term, field, start, end], …]; null on rows from before v0005
    Column("hits", JSON),
    # one article reaches one subscriber at most once, ever
    UniqueConstraint("subscriber", "article", name="uq_outbox_subscriber_article"),
    Index("ix_outbox_subscriber_digest", "subscriber", "digest_id"),
    Index("ix_outbox_item_state", "item_id", "state"),  # is an item still owed (retention)?
    Index("ix_outbox_digest", "digest_id"),  # a digest's items, at each send (v0007)
)
# the rows still owed, by creation: the oldest one and their count, at each scrape (v0019)
PENDING = outbox.c.state == literal_column("'pending'")
Index("ix_outbox_pending", outbox.c.created_at, sqlite_where=PENDING, postgresql_where=PENDING)

# WebSub (monitor.push): a source's subscription at the hub its feed names. A source whose hub
# or topic changes has a row being unsubscribed (wanted false) beside its new one.
push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("callback", String(64), primary_key=True),  # random: the hub posts to …/websub/{it}
    Column("source", String(100), nullable=False),
    Column("hub", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("secret", String(64), nullable=False),  # hub.secret: key of X-Hub-Signature
    Column("wanted", Boolean, nullable=False),  # false: being unsubscribed, then deleted
    Column("renew_at", UTCDateTime, nullable=False),  # when the next request to the hub is due
    Column("requested_at", UTCDateTime),  # the last request sent
    Column("attempts", Integer, nullable=False, default=0),  # requests sent since verified
    Column("last_error", Text),
    Column("verified_at", UTCDateTime),  # the hub's last verification of our intent
    Column("lease_until", UTCDateTime),  # until when the hub delivers
    Column("last_push_at", UTCDateTime),
    # a poll found items the hub had not delivered: polled at its own interval again until the
    # next delivery
    Column("quiet_since", UTCDateTime),
    Index("ix_push_subscriptions_source", "source"),
    Index("ix_push_subscriptions_renew", "renew_at"),
)
# one subscription wanted per source, whichever replica noticed its hub first
Index(
    "uq_push_subscriptions_wanted",
    push_subscriptions.c.source,
    unique=True,
    sqlite_where=push_subscriptions.c.wanted,
    postgresql_where=push_subscriptions.c.wanted,
)
