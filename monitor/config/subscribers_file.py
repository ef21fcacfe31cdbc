"""Subscribers kept in their own file (``subscribers_file:``), as YAML or CSV.

A list of hundreds of addresses then does not bloat the main configuration. This module only
turns the file into raw entries, each with its position (``monitor.config.entries``);
``monitor.config.load`` appends them to ``subscribers`` and validates everything together.

YAML: a list of mappings exactly like the ``subscribers:`` entries.
CSV: a header row naming columns (``name`` and one channel at least), one subscriber per row;
an empty cell keeps the default, ``rules`` are separated by ``;`` or ``|``.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import yaml

from monitor.config.entries import Sink, Table, csv_entries
from monitor.config.subscribers import CHANNELS, SubscriberConfig

SUFFIXES = (".yaml", ".yml", ".csv")
COLUMNS = tuple(SubscriberConfig.model_fields)  # every key a YAML entry may carry
_RULES = re.compile(r"[;|]")
_TRUE = ("true", "yes", "1", "x")


def _cell_value(column: str, text: str) -> Any:
    if column == "rules":
        return [rule.strip() for rule in _RULES.split(text) if rule.strip()]
    if column == "console" and text.lower() in _TRUE:
        return True
    return text


TABLE = Table(
    section="subscribers",
    columns=COLUMNS,
    required=(
        (("name",), "missing column 'name'"),
        (CHANNELS, f"no channel column: one of {', '.join(CHANNELS)}"),
    ),
    cell=_cell_value,
)


def is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def read_entries(text: str, path: Path, first: int, sink: Sink) -> list[Any]:
    """The raw subscriber entries of a file whose contents are ``text``; entry ``i`` is located
    at ``("subscribers", first + i)`` so that it follows the main file's own subscribers."""
    if is_csv(path):
        return list(csv_entries(TABLE, io.StringIO(text, newline=""), str(path), first, sink))
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
