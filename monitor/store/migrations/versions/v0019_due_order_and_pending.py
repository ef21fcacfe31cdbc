"""Two indexes for a million sources (issue 25).

- ``ix_sources_due`` on (next_due_at, name), the claim's whole order: on next_due_at alone, a
  claim among a million sources due at one instant (a store loaded at once, a replica back after
  an outage) sorted every tie by name, 108 sources claimed a second.
- ``ix_outbox_pending``, the rows still owed, by creation: the oldest one and their count
  (metrics) read the index instead of every row ever queued.
- ``ix_digests_subscriber_state``: a subscriber's pending digests, whose rows a digest counts
  among what else is owed (monitor.store.outbox), without reading every pending digest (a
  thousand subscribers' daily digests: a million rows read).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

PENDING = sa.text("state = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_sources_due", "sources")
    op.create_index("ix_sources_due", "sources", ["next_due_at", "name"])
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["created_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_index("ix_digests_subscriber_state", "digests", ["subscriber", "state"])


def downgrade() -> None:
    op.drop_index("ix_digests_subscriber_state", "digests")
    op.drop_index("ix_outbox_pending", "outbox")
    op.drop_index("ix_sources_due", "sources")
    op.create_index("ix_sources_due", "sources", ["next_due_at"])
