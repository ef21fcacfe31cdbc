"""Sources remember permanent redirects and 410 Gone; subscribers can be disabled.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("config_url", sa.Text, nullable=True))
        batch.add_column(sa.Column("redirect_url", sa.Text))
        batch.add_column(
            sa.Column("redirect_count", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("gone_at", UTCDateTime))
    op.execute("UPDATE sources SET config_url = url")
    with op.batch_alter_table("sources") as batch:
        batch.alter_column("config_url", existing_type=sa.Text, nullable=False)
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("target", sa.Text))
        batch.add_column(sa.Column("disabled_at", UTCDateTime))
        batch.add_column(sa.Column("disabled_reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("disabled_reason")
        batch.drop_column("disabled_at")
        batch.drop_column("target")
    with op.batch_alter_table("sources") as batch:
        for column in ("gone_at", "redirect_count", "redirect_url", "config_url"):
            batch.drop_column(column)
