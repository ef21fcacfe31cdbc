"""Sources remember their health (ok, failing, silent), since when, and when they began failing.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("health", sa.String(10), nullable=False, server_default="ok"))
        batch.add_column(sa.Column("health_since", UTCDateTime))
        batch.add_column(sa.Column("failing_since", UTCDateTime))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        for column in ("failing_since", "health_since", "health"):
            batch.drop_column(column)
