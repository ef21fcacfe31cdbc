"""A column is one of a list of names, bound as ONE parameter whatever their number; and rows
given as a table bound the same way.

``column.in_(names)`` binds one parameter per name: a statement over every configured source
or subscriber grows with the configuration, and PostgreSQL refuses one past 32,767 parameters
(issue 25). :func:`one_of` binds the list whole instead: an array on PostgreSQL
(``column = ANY($1)``), a JSON text on SQLite (``column IN (SELECT value FROM json_each(?))``).
Prefer a query on the table where one can say which rows; this is for lists only the
configuration knows (a tag's sources, the configured subscribers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    String,
    Text,
    any_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.compiler import SQLCompiler


class OneOf(ColumnElement[bool]):
    """``column`` is one of ``names`` (none: false). Compiled per dialect, so its statement is
    not cached (the list is its parameter's value, new at each use)."""

    inherit_cache = False
    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is: no `= 1` added on SQLite

    def __init__(self, column: ColumnElement[Any], names: Iterable[str]) -> None:
        self.column = column
        self.names = list(names)


def one_of(column: ColumnElement[Any], names: Iterable[str]) -> ColumnElement[bool]:
    return OneOf(column, names)


@compiles(OneOf, "postgresql")
def _on_postgresql(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    wanted = bindparam(None, element.names, type_=ARRAY(String))
    return compiler.process(element.column == any_(wanted), **kw)


@compiles(OneOf)
def _elsewhere(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    listed = func.json_each(bindparam(None, json.dumps(element.names), type_=String))
    wanted: Select[tuple[Any]] = select(literal_column("value")).select_from(listed)
    return compiler.process(element.column.in_(wanted.scalar_subquery()), **kw)


def rows_of(dialect: str, names: Sequence[str], rows: Sequence[Sequence[str]]) -> FromClause:
    """``rows`` of texts as a table with the columns ``names``, bound as one parameter a column
    (arrays unnested together, on PostgreSQL) or one for all (a JSON array of arrays, SQLite):
    an INSERT … SELECT of thousands of rows in one short statement, without the driver's or
    SQLAlchemy's work per row of an executemany (issue 25: 100,000 sources synced at once)."""
    if dialect == "postgresql":
        arrays = [
            bindparam(None, [row[i] for row in rows], type_=ARRAY(Text)) for i in range(len(names))
        ]
        return func.unnest(*arrays).table_valued(*names).render_derived()
    each = func.json_each(bindparam(None, json.dumps([list(row) for row in rows]), type_=String))
    table = each.table_valued("value")
    columns = [func.json_extract(table.c.value, f"$[{i}]").label(n) for i, n in enumerate(names)]
    return select(*columns).select_from(table).subquery()
