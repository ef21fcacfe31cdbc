"""An index on the outbox's digest: loading a digest and marking its items sent or dead read
the outbox by digest id on every send, which scanned the whole outbox (found by
tests/store/test_query_plans.py).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_digest", "outbox", ["digest_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_digest", table_name="outbox")
