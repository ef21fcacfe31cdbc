"""Sources kept in their own file (``sources_file:``): an OPML file as feed readers export
their subscriptions (``.opml``, or ``.xml`` as Inoreader names its export:
monitor.config.opml), or a CSV table (``.csv``).

CSV: a header row naming ``name`` and ``url`` (or ``google_news``) and any other key a source
may carry (``kind``, ``interval``, ``tags``, ``fetch_article``, the html kind's selectors…),
one source per row, checked like a YAML source; an empty cell keeps the default; ``tags`` are
separated by spaces, ``|`` or ``;``. Its names are the user's: one the main file also has is
an error. An OPML file's names are made from titles, apart from the main file's, and a feed
the main file already has (the same URL) is left out of it: the main file's settings win.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from monitor.config.entries import Sink, Table, csv_entries
from monitor.config.sources import SOURCE_CONFIGS

SUFFIXES = (".opml", ".xml", ".csv")
# every key a source of any kind may carry, name and url first
COLUMNS = tuple(
    dict.fromkeys(["name", "url", *(k for m in SOURCE_CONFIGS.values() for k in m.model_fields)])
)
_TAGS = re.compile(r"[\s;|]+")


def _cell_value(column: str, text: str) -> Any:
    if column == "tags":
        return [tag for tag in _TAGS.split(text) if tag]
    return text


TABLE = Table(
    section="sources",
    columns=COLUMNS,
    required=(
        (("name",), "missing column 'name'"),
        (("url", "google_news"), "missing column 'url' (or 'google_news', for searches)"),
    ),
    cell=_cell_value,
)


def read_sources(raw: bytes, path: Path, main: list[Any], sink: Sink) -> list[Any]:
    """The raw source entries of a sources file whose contents are ``raw``, after the main
    file's sources ``main``."""
    if path.suffix.lower() == ".csv":
        return csv_entries(TABLE, raw.decode("utf-8-sig"), str(path), len(main), sink)
    from monitor.config.opml import opml_entries  # (what only an OPML file needs)

    return opml_entries(raw, str(path), main, sink)
