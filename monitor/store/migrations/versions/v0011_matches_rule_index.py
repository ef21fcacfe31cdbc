"""An index on the matches by rule: a rule's Atom feed (monitor.store.feeds) reads its last
alerts, newest first, by walking it instead of every match of every rule.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_matches_rule", "matches", ["rule", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_matches_rule", table_name="matches")
