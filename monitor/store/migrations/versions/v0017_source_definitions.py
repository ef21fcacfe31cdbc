"""Source definitions kept in the store (issue 25, ``sources_from: store``): each source's
validated entry as JSON, which a replica reads for the sources it claims only, instead of every
replica holding the whole list from its configuration. Null for a source the configuration
defines (``sources_from: config``).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("definition", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("definition")
