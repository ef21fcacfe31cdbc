"""Sources kept in their own file (``sources_file:``): an OPML file as feed readers export
their subscriptions (``.opml``, or ``.xml`` as Inoreader names its export:
monitor.config.opml), or a CSV table (``.csv``).

CSV: a header row naming ``name`` and ``url`` (or ``google_news``) and any other key a source
may carry (``kind``, ``interval``, ``tags``, ``fetch_article``, the html kind's selectors…),
one source per row, checked like a YAML source; an empty cell keeps the default; ``tags`` are
separated by spaces, ``|`` or ``;``. Its names are the user's: one the main file also has is
an error. An OPML file's names are made from titles, apart from the main file's, and a feed
the main file already has (the same URL) is left out of it: the main file's settings win.

A sources file is not held to the configuration's size limit (10 MB): 100,000 sources take
5 MB of CSV or 15 MB of OPML, and a CSV file is read row by row. It is bounded instead: at
most MAX_SOURCES sources and MAX_BYTES bytes (what one process can check in a minute and hold;
replicas share a larger list: issue 25). Past either, the place where the file passed it is
an error, and nothing after it is read.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from monitor.config.entries import PastBound, Sink, Table, csv_entries
from monitor.config.sources import SOURCE_CONFIGS

SUFFIXES = (".opml", ".xml", ".csv")
MAX_SOURCES = 1_000_000
MAX_BYTES = 256 * 1024 * 1024  # 256 bytes a source at the most sources, five times a plain row


def _too_large() -> str:
    return f"larger than {MAX_BYTES / (1024 * 1024):g} MB"


# every key a source of any kind may carry, name and url first
COLUMNS = tuple(
    dict.fromkeys(["name", "url", *(k for m in SOURCE_CONFIGS.values() for k in m.model_fields)])
)
_TAGS = re.compile(r"[\s;|]+")


def _cell_value(column: str, text: str) -> Any:
    # tags and kinds repeat over thousands of rows: one string each, shared (sys.intern)
    if column == "tags":
        return [sys.intern(tag) for tag in _TAGS.split(text) if tag]
    if column == "kind":
        return sys.intern(text)
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


def read_sources(path: Path, main: list[Any], sink: Sink) -> list[Any]:
    """The raw source entries of the sources file at ``path``, after the main file's sources
    ``main``; OSError when it cannot be read."""
    if streamed(path):
        return list(stream_sources(path, sink, len(main)))
    from monitor.config.opml import opml_entries  # (what only an OPML file needs)

    with open(path, "rb") as file:
        raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:  # (its positions are found in its text, held whole: unread)
        sink.problem((str(path), 1, 1), (), f"{_too_large()}: refused, unread")
        return []
    return opml_entries(raw, str(path), main, sink, MAX_SOURCES)


def streamed(path: Path) -> bool:
    """Whether :func:`stream_sources` reads the file at ``path`` as its entries are asked for
    (a CSV file), rather than all at once (OPML)."""
    return path.suffix.lower() == ".csv"


def stream_sources(path: Path, sink: Sink, first: int = 0) -> Iterator[Any]:
    """:func:`read_sources`'s entries one at a time, numbered from ``first``: a CSV file's
    read from the file as they are asked for, so that a million rows are never all held; an
    OPML file's parsed whole first (its size bounded by MAX_BYTES; no main file's entries
    before them). OSError, when the file cannot be read, from the first entry asked for."""
    if not streamed(path):
        yield from read_sources(path, [], sink)
        return
    with open(path, "rb") as file, io.TextIOWrapper(file, "utf-8-sig", newline="") as text:
        try:
            lines = _bounded(text, file, str(path), sink)
            yield from csv_entries(TABLE, lines, str(path), first, sink, MAX_SOURCES)
        except UnicodeDecodeError:
            sink.problem(_not_utf8(str(path)), (), "not UTF-8 text (save it as UTF-8)")


def _bounded(
    text: io.TextIOWrapper, file: io.BufferedReader, path: str, sink: Sink
) -> Iterator[str]:
    """The lines of ``text``; PastBound, told to ``sink``, once its file is read past
    MAX_BYTES (as the text decoder reads it: give or take a few kilobytes)."""
    number = 0
    for number, line in enumerate(text, 1):
        if number % 1024 == 0 and file.tell() > MAX_BYTES:
            sink.problem((path, number, 1), (), f"{_too_large()}: the rest is not read")
            raise PastBound
        yield line
    if file.tell() > MAX_BYTES:  # (fewer lines, longer ones)
        sink.problem((path, max(number, 1), 1), (), f"{_too_large()}: the rest is not read")
        raise PastBound


def _not_utf8(path: str) -> tuple[str, int, int]:
    """Where the first byte that is not UTF-8 is in the file at ``path`` (read again, by lines:
    only when the stream found one)."""
    with open(path, "rb") as file:
        for number, line in enumerate(file, 1):
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                return (path, number, exc.start + 1)
    return (path, 1, 1)
