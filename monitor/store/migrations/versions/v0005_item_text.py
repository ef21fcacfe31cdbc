"""Items keep their text for a window (retention.text); outbox rows can carry match explanations.

``items.content`` is NULL on rows from before this version and once pruned (pruning also
empties ``summary``). Two indexes keep the window read and the prune cheap however many items
the store holds: one on ``seen_at`` for the window, and a partial one on ``seen_at`` of the
items whose text is still kept, so a prune never walks the items already pruned. Outbox rows
are found by item (the prune keeps the text of items a pending digest still needs).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# must stay the predicate of monitor.store.tables.TEXT_KEPT, or the partial index goes unused
KEPT = "content IS NOT NULL OR summary <> ''"


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("content", sa.Text))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("hits", sa.JSON))
    op.create_index("ix_items_seen_at", "items", ["seen_at"])
    op.create_index(
        "ix_items_text_kept",
        "items",
        ["seen_at"],
        sqlite_where=sa.text(KEPT),
        postgresql_where=sa.text(KEPT),
    )
    op.create_index("ix_outbox_item_state", "outbox", ["item_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_outbox_item_state", "outbox")
    op.drop_index("ix_items_text_kept", "items")
    op.drop_index("ix_items_seen_at", "items")
    # a plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: dropping and
    # recreating items would cascade-delete the matches and outbox rows that reference it
    op.drop_column("outbox", "hits")
    op.drop_column("items", "content")
