"""Due sources found without reading every source: an index on the next due time, which is
never null any more (a new source is due from when it was added: "null, due now" could not be
searched by the index), and a mark on sources no longer configured (kept, with their items, in
case they come back), so that claiming due sources no longer lists every configured name in the
query (past ~30,000 sources that exceeded the backends' limit on parameters).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from monitor.store.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("removed_at", UTCDateTime))
    op.create_index("ix_sources_due", "sources", ["next_due_at"])
    long_ago = sa.bindparam("due", datetime(1970, 1, 1, tzinfo=UTC), type_=UTCDateTime())
    op.execute(
        sa.text("UPDATE sources SET next_due_at = :due WHERE next_due_at IS NULL").bindparams(
            long_ago
        )
    )


def downgrade() -> None:  # (a due time where null was kept means the same: due now)
    op.drop_index("ix_sources_due", table_name="sources")
    op.drop_column("sources", "removed_at")
