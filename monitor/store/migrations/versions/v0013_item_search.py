"""Items are searchable (DESIGN §3.7 ``/api/items?q=``): the folded, keyed words of each item's
title and, apart, of its text (monitor.store.search), indexed for full-text search.

``items.title_words`` and ``items.text_words`` hold the words as the dialect's index reads them.
SQLite: an FTS5 table ``item_search`` over those two columns (external content: ``items``,
rowid = ``items.id``), kept by triggers on insert, delete and a change of the words (a prune
empties ``text_words``: the text's words leave the index, the title's stay). PostgreSQL: the
columns are ``tsvector`` literals, and a GIN index over their concatenation cast to
``tsvector`` (both casts are immutable) answers ``@@``.

Existing rows are indexed here, in chunks, from their title and the text they still keep, by
:func:`monitor.store.search.index_words` as it is when this runs (the words written as well as
their keys, no word over ``MAX_WORD`` characters: PostgreSQL's GIN index refuses a word of
2,048 bytes). Changed before its release rather than followed by a re-indexing revision.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from monitor.store.search import index_words

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

CHUNK = 2000  # items indexed per statement batch

# must stay the tokenizer the queries of monitor.store.items are written for: words are keys
# already (lower case, no accents), and "_" marks a phrase break
FTS = (
    "CREATE VIRTUAL TABLE item_search USING fts5(title_words, text_words, content='items', "
    "content_rowid='id', tokenize=\"unicode61 remove_diacritics 0 tokenchars '_'\")"
)
TRIGGERS = (
    "CREATE TRIGGER item_search_insert AFTER INSERT ON items BEGIN "
    "INSERT INTO item_search(rowid, title_words, text_words) "
    "VALUES (new.id, new.title_words, new.text_words); END",
    "CREATE TRIGGER item_search_delete AFTER DELETE ON items BEGIN "
    "INSERT INTO item_search(item_search, rowid, title_words, text_words) "
    "VALUES ('delete', old.id, old.title_words, old.text_words); END",
    "CREATE TRIGGER item_search_update AFTER UPDATE OF title_words, text_words ON items BEGIN "
    "INSERT INTO item_search(item_search, rowid, title_words, text_words) "
    "VALUES ('delete', old.id, old.title_words, old.text_words); "
    "INSERT INTO item_search(rowid, title_words, text_words) "
    "VALUES (new.id, new.title_words, new.text_words); END",
)
# must stay the expression of monitor.store.items (or the index goes unused)
PG_INDEX = (
    "CREATE INDEX ix_items_search ON items USING gin "
    "((CAST(title_words AS tsvector) || CAST(text_words AS tsvector)))"
)


def _backfill(dialect: str) -> None:
    conn = op.get_bind()
    read = sa.text(
        "SELECT id, title, summary, content FROM items WHERE id > :after ORDER BY id LIMIT :n"
    )
    write = sa.text("UPDATE items SET title_words = :t, text_words = :x WHERE id = :id")
    after = 0
    while True:
        rows = conn.execute(read, {"after": after, "n": CHUNK}).all()
        if not rows:
            return
        values = []
        for item_id, title, summary, content in rows:
            title_words, text_words = index_words(dialect, title, summary, content or "")
            values.append({"t": title_words, "x": text_words, "id": item_id})
        conn.execute(write, values)
        after = rows[-1][0]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # plain ALTER TABLE … ADD COLUMN (no batch copy of items, whose rows others reference)
    op.add_column("items", sa.Column("title_words", sa.Text, nullable=False, server_default=""))
    op.add_column("items", sa.Column("text_words", sa.Text, nullable=False, server_default=""))
    _backfill(dialect)
    if dialect == "postgresql":
        op.execute(PG_INDEX)
        return
    op.execute(FTS)
    op.execute("INSERT INTO item_search(item_search) VALUES ('rebuild')")
    for trigger in TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_items_search")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER item_search_{name}")
        op.execute("DROP TABLE item_search")
    op.drop_column("items", "text_words")
    op.drop_column("items", "title_words")
