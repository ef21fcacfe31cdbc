"""Subscribers manage themselves (issue 24): those who signed up and the choices of those of the
configuration (``subscriber_choices``), a pause, and when a subscriber's address last changed
(links issued before name an older address).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTER TABLE … ADD COLUMN: nullable columns, no batch copy
    op.add_column("subscribers", sa.Column("target_since", UTCDateTime))
    op.add_column("subscribers", sa.Column("paused_until", UTCDateTime))
    op.create_table(
        "subscriber_choices",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("mailbox", sa.Text, nullable=False),
        sa.Column("signed_up", sa.Boolean, nullable=False),
        sa.Column("rules", sa.JSON),
        sa.Column("digest", sa.String(40)),
        sa.Column("language", sa.String(10)),
        sa.Column("max_items", sa.Integer),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )
    signed_up = sa.column("signed_up", sa.Boolean)
    op.create_index(
        "uq_subscriber_choices_signed_up",
        "subscriber_choices",
        ["mailbox"],
        unique=True,
        sqlite_where=signed_up,
        postgresql_where=signed_up,
    )


def downgrade() -> None:
    op.drop_index("uq_subscriber_choices_signed_up", table_name="subscriber_choices")
    op.drop_table("subscriber_choices")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("paused_until")
        batch.drop_column("target_since")
