"""sources.config_url is config_key: what it holds is the configuration's identity of the
source (its URL, or a search's query and edition), not always a URL.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("sources", "config_url", new_column_name="config_key")


def downgrade() -> None:
    op.alter_column("sources", "config_key", new_column_name="config_url")
