"""The last 50 polls of each source, for its page (/sources/NAME): a ring of slots per source
(``poll_log``), numbered by a count of polls kept on the source's row (``sources.polls``);
and an index to read a source's items newest first.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("polls", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "poll_log",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("result", sa.String(20), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("new_items", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_items_source_id", "items", ["source", "id"])


def downgrade() -> None:
    op.drop_index("ix_items_source_id", table_name="items")
    op.drop_table("poll_log")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("polls")
