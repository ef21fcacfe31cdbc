"""What a source kind is: a pure parser from a fetched body to entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from monitor.models import Entry, Fetched


@dataclass(frozen=True, slots=True)
class Parsed:
    """The entries read from one document, and how many it held before the cap."""

    entries: list[Entry]
    total: int  # entries in the document; more than len(entries) when max_items cut it


class SourceKind(Protocol):
    """One kind of source (``kind:`` in the config). ``parse`` is pure and CPU-bound: it runs
    in a worker process, raises only ParseError, and never touches the network or the disk.
    It keeps the first ``max_items`` entries of the document (all when None)."""

    name: str

    def parse(self, fetched: Fetched, max_items: int | None = None) -> Parsed: ...
