"""Sign-ups waiting for their confirmation (issue 24, ``/subscribe``): what each address asked
for and when its confirmation emails went, for the per-address limits.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signup_requests",
        sa.Column("mailbox", sa.Text, primary_key=True),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("digest", sa.String(40), nullable=False),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("sent_at", UTCDateTime, nullable=False),
        sa.Column("day_start", UTCDateTime, nullable=False),
        sa.Column("day_count", sa.Integer, nullable=False),
        sa.Column("refused_at", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("signup_requests")
