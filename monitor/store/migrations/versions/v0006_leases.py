"""Leases, so that several replicas share one store (DESIGN §4): a source is polled, and a
subscriber's digests formed and sent, by the one replica holding its lease until it expires.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("sources", "subscribers"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lease_owner", sa.String(100)))
            batch.add_column(sa.Column("lease_until", UTCDateTime))


def downgrade() -> None:
    for table in ("subscribers", "sources"):
        op.drop_column(table, "lease_until")
        op.drop_column(table, "lease_owner")
