"""Initial schema: sources, items, matches, subscribers, digests, outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("first_poll_at", UTCDateTime),
        sa.Column("last_poll_at", UTCDateTime),
        sa.Column("next_due_at", UTCDateTime),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("last_result", sa.String(20)),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("last_new_items", sa.Integer, nullable=False),
        sa.Column("last_matches", sa.Integer, nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("article", sa.Text, nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime),
        sa.Column("seen_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("source", "key", name="uq_items_source_key"),
    )
    op.create_table(
        "matches",
        sa.Column(
            "item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("rule", sa.String(100), primary_key=True),
        sa.Column("terms", sa.JSON, nullable=False),
    )
    op.create_table(
        "subscribers",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("last_digest_at", UTCDateTime),
    )
    op.create_table(
        "digests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subscriber", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", UTCDateTime),
    )
    op.create_index("ix_digests_state_next", "digests", ["state", "next_attempt_at"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscriber", sa.String(100), nullable=False),
        sa.Column("article", sa.Text, nullable=False),
        sa.Column(
            "item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("terms", sa.JSON, nullable=False),
        sa.Column("digest_id", sa.String(40), sa.ForeignKey("digests.id")),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("subscriber", "article", name="uq_outbox_subscriber_article"),
    )
    op.create_index("ix_outbox_subscriber_digest", "outbox", ["subscriber", "digest_id"])


def downgrade() -> None:
    for table in ("outbox", "digests", "subscribers", "matches", "items", "sources"):
        op.drop_table(table)
