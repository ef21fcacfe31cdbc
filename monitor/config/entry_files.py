"""Entries kept in files of their own beside the configuration: ``subscribers_file`` (YAML or
CSV: monitor.config.subscribers_file) and ``sources_file`` (OPML or CSV:
monitor.config.sources_file). Each is found relative to the configuration's folder, read
(a subscribers file capped like the configuration; a sources file, which may hold a million
sources, within bounds of its own), and its entries appended to their section, so that they
are validated and cross-checked with the main file's; their problems point into the file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config import sources_file, subscribers_file
from monitor.config.entries import Loc, Sink
from monitor.config.located import TOO_LARGE, Reader, read_capped


@dataclass(frozen=True)
class EntryFile:
    key: str  # the configuration's key naming the file
    section: str  # where its entries go
    suffixes: tuple[str, ...]  # what its name may end with, each saying its format
    # (its path, the main file's entries, the sink) -> its entries; OSError, UnicodeDecodeError,
    # or TooLarge when it cannot be read
    read: Callable[[Path, list[Any], Sink], list[Any]]

    @property
    def expected(self) -> str:
        return f"{', '.join(self.suffixes[:-1])} or {self.suffixes[-1]}"


class TooLarge(Exception):
    """A file past MAX_FILE_BYTES, refused unread."""


def _subscribers(path: Path, main: list[Any], sink: Sink) -> list[Any]:
    raw = read_capped(path)
    if raw is None:
        raise TooLarge
    text = raw.decode("utf-8-sig")  # spreadsheets may start CSV with a BOM
    return subscribers_file.read_entries(text, path, len(main), sink)


FILES = (
    EntryFile("subscribers_file", "subscribers", subscribers_file.SUFFIXES, _subscribers),
    EntryFile("sources_file", "sources", sources_file.SUFFIXES, sources_file.read_sources),
)


def add_entry_files(reader: Reader, data: dict[str, Any], path: str) -> None:
    for spec in FILES:
        _add(reader, data, path, spec)


def _add(reader: Reader, data: dict[str, Any], path: str, spec: EntryFile) -> None:
    """Append the entries of the file ``data[spec.key]`` names to ``data[spec.section]``."""
    name, main = data.get(spec.key), data.get(spec.section, [])
    if not isinstance(name, str) or not name or not isinstance(main, list):
        return  # a wrong type is reported by the validation
    loc: Loc = (spec.key,)
    where = reader.mark_of(loc)
    file = Path(path).parent / name
    noun = spec.section
    if file.suffix.lower() not in spec.suffixes:
        reader.problem(where, loc, f"expected a {spec.expected} file, not {str(file)!r}")
        return
    if file.resolve() == Path(path).resolve():
        reader.problem(where, loc, f"the {noun} file cannot be the configuration itself")
        return
    if spec.section == "sources" and data.get("sources_from") == "store":
        data[spec.key] = str(file)  # read by 'monitor sources load', not held by the daemon
        return
    reader.files.append(str(file))
    reader.shift[str(file)] = len(main)
    try:
        entries = spec.read(file, main, reader)
    except TooLarge:
        reader.problem(where, loc, f"{file}: {TOO_LARGE}")
        return
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        reader.problem(where, loc, f"cannot read {file}: {reason}")
        return
    data[spec.section] = [*main, *entries]
    data[spec.key] = str(file)
