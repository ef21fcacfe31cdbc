"""The seen-window (``retention.seen``, issue 25): items last seen longer ago lose their row,
a compact record of their identity (``seen_keys``) stays; ``items.last_seen_at`` says when a
poll last found an item still in its feed, ``sources.read_at`` when a poll last read the feed
(not a 304 nor the same bytes): an item still in its feed is never pruned.

Existing rows keep ``last_seen_at`` NULL (read as ``seen_at``): nothing to rewrite.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("last_seen_at", UTCDateTime))
    op.add_column("sources", sa.Column("read_at", UTCDateTime))
    op.create_table(
        "seen_keys",
        sa.Column("hash", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("day", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("seen_keys")
    # not a batch: on SQLite it would copy the table, losing the search index's triggers (v0013)
    op.execute("ALTER TABLE items DROP COLUMN last_seen_at")
    op.execute("ALTER TABLE sources DROP COLUMN read_at")
