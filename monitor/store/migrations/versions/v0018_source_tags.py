"""Each stored source's tags in their own table (issue 25, ``sources_from: store``), indexed
by tag: the web app's tag filter and tag list read the index instead of every definition.
Filled from the definitions a load wrote before this version, a page at a time.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

PAGE = 5000
LONGEST = 200  # a longer tag is not kept (monitor.store.definitions)


def upgrade() -> None:
    op.create_table(
        "source_tags",
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("tag", sa.String(200), primary_key=True),
    )
    op.create_index("ix_source_tags_tag", "source_tags", ["tag", "source"])
    sources = sa.table("sources", sa.column("name", sa.String), sa.column("definition", sa.Text))
    tags = sa.table("source_tags", sa.column("source", sa.String), sa.column("tag", sa.String))
    bind = op.get_bind()
    after = ""
    while True:
        rows = bind.execute(
            sa.select(sources.c.name, sources.c.definition)
            .where(sources.c.definition.is_not(None), sources.c.name > after)
            .order_by(sources.c.name)
            .limit(PAGE)
        ).all()
        if not rows:
            break
        after = rows[-1][0]
        found = [
            {"source": name, "tag": tag}
            for name, text in rows
            for tag in dict.fromkeys(json.loads(text).get("tags", []))
            if isinstance(tag, str) and len(tag) <= LONGEST
        ]
        if found:
            bind.execute(tags.insert(), found)


def downgrade() -> None:
    op.drop_index("ix_source_tags_tag", "source_tags")
    op.drop_table("source_tags")
