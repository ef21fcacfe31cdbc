"""What a source kind is: a pure parser from a fetched body to entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from monitor.core.models import Entry, Fetched, HubLink, Item


@dataclass(frozen=True, slots=True)
class Parsed:
    """The entries read from one document, and how many it held before the cap."""

    entries: list[Entry]
    total: int  # entries in the document; more than len(entries) when max_items cut it
    follow: tuple[str, ...] = ()  # documents to read too, one level (a sitemap index's)
    feeds: tuple[str, ...] = ()  # a web page instead of a feed: where its feed may be
    hub: HubLink | None = None  # where the feed says it is pushed (WebSub)


@dataclass(frozen=True, slots=True)
class Read:
    """One document parsed and normalized (in a parse worker): its items, the entries kept
    (at most max_items) and held in all, how many GUIDs several entries shared, the
    documents it says to read too, and its WebSub hub."""

    items: list[Item]
    kept: int
    total: int
    shared_guids: int
    follow: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    hub: HubLink | None = None


class SourceKind(Protocol):
    """One kind of source (``kind:`` in the config). ``parse`` is pure and CPU-bound: it runs
    in a worker process, raises only ParseError, and never touches the network or the disk.
    It keeps the first ``max_items`` entries of the document (all when None)."""

    @property
    def name(self) -> str: ...

    @property
    def follows(self) -> bool:
        """Whether its documents may name others to read too (:attr:`Parsed.follow`)."""
        ...

    def parse(self, fetched: Fetched, max_items: int | None = None) -> Parsed: ...
