"""What a source kind is: a pure parser from a fetched body to entries."""

from __future__ import annotations

from typing import Protocol

from monitor.http import Fetched
from monitor.models import Entry


class SourceKind(Protocol):
    """One kind of source (``kind:`` in the config). ``parse`` is pure and CPU-bound: it runs
    off the event loop, raises only ParseError, and never touches the network or the disk."""

    name: str

    def parse(self, fetched: Fetched) -> list[Entry]: ...
