"""WebSub: the subscriptions of feeds that name a hub (monitor.push).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("callback", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("hub", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("wanted", sa.Boolean, nullable=False),
        sa.Column("renew_at", UTCDateTime, nullable=False),
        sa.Column("requested_at", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("verified_at", UTCDateTime),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("last_push_at", UTCDateTime),
        sa.Column("quiet_since", UTCDateTime),
    )
    op.create_index("ix_push_subscriptions_source", "push_subscriptions", ["source"])
    op.create_index("ix_push_subscriptions_renew", "push_subscriptions", ["renew_at"])
    wanted = sa.column("wanted", sa.Boolean)
    op.create_index(
        "uq_push_subscriptions_wanted",
        "push_subscriptions",
        ["source"],
        unique=True,
        sqlite_where=wanted,
        postgresql_where=wanted,
    )


def downgrade() -> None:
    op.drop_table("push_subscriptions")
