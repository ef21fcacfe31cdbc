"""Entries of a section kept in a file of their own (``subscribers_file``, ``sources_file``):
what such a file's reader gives its entries' positions and problems to (``Sink``, the
configuration reader), and the CSV form both files share (``Table``, :func:`csv_entries`).

A reader only turns the file into raw entries, each with its position; ``monitor.config.load``
appends them to the section and validates everything together, so an error in the file reads
``FILE:LINE:COL: section[i].key: message`` like one in the main file.

CSV: a header row naming columns, one entry per row; an empty cell keeps the default. The
column of a position is the number of the cell (1-based), which is what a spreadsheet shows.
The rows are read one by one from the file's lines (a sources file may hold a million).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from monitor.config.suggest import suggestion

Loc = tuple[str | int, ...]
Position = tuple[str, int, int]  # file, line, column (1-based)
HEADER: Loc = ("(header)",)


class Sink(Protocol):
    """Where the entries' values, positions and problems go (the configuration reader)."""

    def compose(self, text: str, path: str) -> tuple[bool, yaml.Node | None]:
        """The YAML node tree, or (False, None) after reporting a syntax problem."""
        ...

    def value(self, node: yaml.Node, loc: Loc, path: str) -> Any:
        """The node as Python values, ``${VAR}`` replaced, each position recorded."""
        ...

    def place(self, loc: Loc, at: Position) -> None: ...

    def place_row(self, loc: Loc, at: Position, columns: tuple[str, ...]) -> None:
        """A table's row at ``at``: the cell of ``columns[k]`` is at column ``k + 1`` of its
        line (kept as the row's one position: 100,000 rows, not 400,000 cells)."""
        ...

    def interpolate(self, text: str, at: Position, loc: Loc) -> str: ...

    def problem(self, at: Position | None, loc: Loc, message: str) -> None: ...


@dataclass(frozen=True)
class Table:
    """What a CSV file of one section's entries may hold."""

    section: str  # "subscribers", "sources": the entries' place in the configuration
    columns: tuple[str, ...]  # every key an entry may carry
    # columns of which the header must name one at least, and what to say when it names none
    required: tuple[tuple[tuple[str, ...], str], ...]
    cell: Callable[[str, str], Any]  # (column, non-empty text) -> the entry's value


class PastBound(Exception):
    """Raised by a file's lines once it is larger than its reader allows (which has said so
    where): the entries read until then are kept, the rest is not read."""


def csv_entries(
    table: Table,
    lines: Iterable[str],
    path: str,
    first: int,
    sink: Sink,
    most: int | None = None,
) -> Iterator[Any]:
    """The raw entries of a CSV file read from ``lines`` (as a file opened with
    ``newline=""`` gives them), one at a time, each read when asked for (its position placed
    in ``sink`` then: a million rows need not all be held); entry ``i`` is located at
    ``(table.section, first + i)``, following the main file's own entries. ``most``: how many
    the file may hold; the row past them is reported, and nothing after it read."""
    lines = iter(lines)
    before: list[str] = []  # the lines up to the header, read to look at it
    for text in lines:
        before.append(text)
        if text.strip():
            break
    # a spreadsheet set to French exports with ';' between cells: the header tells which
    delimiter = ";" if "," not in (before[-1] if before else "") else ","
    reader = csv.reader(itertools.chain(before, lines), delimiter=delimiter)
    count = 0
    columns: tuple[str, ...] = ()
    short: dict[int, tuple[str, ...]] = {}  # the columns of rows with fewer cells, by count
    last = 0  # the line the previous row ended on: a quoted cell may span lines
    try:
        for row in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if not columns:
                columns = tuple(_header(table, row, path, line, sink))
                if not columns:
                    return  # a broken header would make every row wrong: report it alone
                continue
            if most is not None and count == most:
                message = f"more than {most:,} {table.section}: the rest is not read"
                sink.problem((path, line, 1), (), message)
                break
            loc: Loc = (table.section, first + count)
            placed = columns
            if len(row) < len(columns):
                placed = short.setdefault(len(row), columns[: len(row)])
            sink.place_row(loc, (path, line, 1), placed)
            count += 1
            yield _row(table, row, placed, line, loc, sink, path)
    except csv.Error as exc:
        sink.problem((path, reader.line_num or 1, 1), (), f"invalid CSV: {exc}")
    except PastBound:
        pass


def _header(table: Table, row: Sequence[str], path: str, line: int, sink: Sink) -> list[str]:
    """The column names, or [] after reporting what is wrong with them."""
    names = [cell.strip().lower() for cell in row]
    wrong = False
    for number, name in enumerate(names, 1):
        message = None
        if name not in table.columns:
            hint = suggestion(name, table.columns)
            expected = f" (expected some of {', '.join(table.columns)})"
            message = f"unknown column {name!r}{hint or expected}"
        elif name in names[: number - 1]:
            message = f"duplicate column {name!r}"
        if message:
            sink.problem((path, line, number), HEADER, message)
            wrong = True
    for any_of, message in table.required:
        if not set(names) & set(any_of):
            sink.problem((path, line, 1), HEADER, message)
            wrong = True
    return [] if wrong else names


def _row(
    table: Table,
    row: Sequence[str],
    columns: tuple[str, ...],
    line: int,
    loc: Loc,
    sink: Sink,
    path: str,
) -> Any:
    """The entry of a row whose cells are named ``columns`` (placed by the caller: an empty
    required cell is reported where it is)."""
    if len(row) > len(columns):
        message = f"{len(row)} cells but {len(columns)} columns (quote a cell holding {','!r})"
        sink.problem((path, line, len(columns) + 1), loc, message)
    entry: dict[str, Any] = {}
    cell_value = table.cell
    for column, cell in zip(columns, row, strict=False):
        text = cell.strip()
        if not text:
            continue  # the default
        if "${" in text:
            number = columns.index(column) + 1
            text = sink.interpolate(text, (path, line, number), (*loc, column))
        entry[column] = cell_value(column, text)
    return entry
