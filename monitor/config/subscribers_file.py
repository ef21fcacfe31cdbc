"""Subscribers kept in their own file (``subscribers_file:``), as YAML or CSV.

A list of hundreds of addresses then does not bloat the main configuration. This module only
turns the file into raw entries, each with its position; ``monitor.config.load`` appends them to
``subscribers`` and validates everything together, so an error in the file is reported as
``FILE:LINE:COL: subscribers[i].key: message`` like one in the main file.

YAML: a list of mappings exactly like the ``subscribers:`` entries.
CSV: a header row naming columns (``name`` and one channel at least), one subscriber per row;
an empty cell keeps the default, ``rules`` are separated by ``;`` or ``|``. For CSV the column of
a position is the number of the cell (1-based), which is what a spreadsheet shows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import yaml

from monitor.config.subscribers import CHANNELS, SubscriberConfig

Loc = tuple[str | int, ...]
Position = tuple[str, int, int]  # file, line, column (1-based)
SUFFIXES = (".yaml", ".yml", ".csv")
COLUMNS = tuple(SubscriberConfig.model_fields)  # every key a YAML entry may carry
_RULES = re.compile(r"[;|]")
_TRUE = ("true", "yes", "1", "x")
_HEADER: Loc = ("(header)",)


class Sink(Protocol):
    """Where the entries' values, positions and problems go (the configuration reader)."""

    def compose(self, text: str, path: str) -> tuple[bool, yaml.Node | None]:
        """The YAML node tree, or (False, None) after reporting a syntax problem."""
        ...

    def value(self, node: yaml.Node, loc: Loc, path: str) -> Any:
        """The node as Python values, ``${VAR}`` replaced, each position recorded."""
        ...

    def place(self, loc: Loc, at: Position) -> None: ...

    def interpolate(self, text: str, at: Position, loc: Loc) -> str: ...

    def problem(self, at: Position | None, loc: Loc, message: str) -> None: ...


def is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def read_entries(text: str, path: Path, first: int, sink: Sink) -> list[Any]:
    """The raw subscriber entries of a file whose contents are ``text``; entry ``i`` is located
    at ``("subscribers", first + i)`` so that it follows the main file's own subscribers."""
    if is_csv(path):
        return _csv_entries(text, str(path), first, sink)
    return _yaml_entries(text, str(path), first, sink)


def _yaml_entries(text: str, path: str, first: int, sink: Sink) -> list[Any]:
    ok, node = sink.compose(text, path)
    if not ok or node is None:
        return []  # a syntax error was reported; an empty file holds no subscriber
    if not isinstance(node, yaml.SequenceNode):
        at = (path, node.start_mark.line + 1, node.start_mark.column + 1)
        sink.problem(at, (), "a subscribers file is a list of subscribers, like 'subscribers:'")
        return []
    return [
        sink.value(child, ("subscribers", first + i), path) for i, child in enumerate(node.value)
    ]


def _csv_entries(text: str, path: str, first: int, sink: Sink) -> list[Any]:
    # a spreadsheet set to French exports with ';' between cells: the header tells which
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if "," not in header else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    entries: list[Any] = []
    columns: list[str] | None = None
    last = 0  # the line the previous row ended on: a quoted cell may span lines
    try:
        for row in reader:
            line, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _header(row, path, line, sink)
                if not columns:
                    return []  # a broken header would make every row wrong: report it alone
                continue
            loc: Loc = ("subscribers", first + len(entries))
            entries.append(_row(row, columns, (path, line, 1), loc, sink))
    except csv.Error as exc:
        sink.problem((path, reader.line_num or 1, 1), (), f"invalid CSV: {exc}")
    return entries


def _header(row: Sequence[str], path: str, line: int, sink: Sink) -> list[str]:
    """The column names, or [] after reporting what is wrong with them."""
    names = [cell.strip().lower() for cell in row]
    wrong = False
    for number, name in enumerate(names, 1):
        message = None
        if name not in COLUMNS:
            message = f"unknown column {name!r} (expected some of {', '.join(COLUMNS)})"
        elif name in names[: number - 1]:
            message = f"duplicate column {name!r}"
        if message:
            sink.problem((path, line, number), _HEADER, message)
            wrong = True
    if "name" not in names:
        sink.problem((path, line, 1), _HEADER, "missing column 'name'")
        wrong = True
    if not set(names) & set(CHANNELS):
        sink.problem((path, line, 1), _HEADER, f"no channel column: one of {', '.join(CHANNELS)}")
        wrong = True
    return [] if wrong else names


def _row(row: Sequence[str], columns: list[str], at: Position, loc: Loc, sink: Sink) -> Any:
    path, line, _ = at
    sink.place(loc, at)
    if len(row) > len(columns):
        message = f"{len(row)} cells but {len(columns)} columns (quote a cell holding {','!r})"
        sink.problem((path, line, len(columns) + 1), loc, message)
    entry: dict[str, Any] = {}
    for number, (column, cell) in enumerate(zip(columns, row, strict=False), 1):
        cell_at, cell_loc = (path, line, number), (*loc, column)
        sink.place(cell_loc, cell_at)  # an empty required cell is reported where it is
        text = cell.strip()
        if not text:
            continue  # the default
        if "${" in text:
            text = sink.interpolate(text, cell_at, cell_loc)
        entry[column] = _cell_value(column, text)
    return entry


def _cell_value(column: str, text: str) -> Any:
    if column == "rules":
        return [rule.strip() for rule in _RULES.split(text) if rule.strip()]
    if column == "console" and text.lower() in _TRUE:
        return True
    return text
