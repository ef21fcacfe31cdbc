"""Plain frozen values passed between the steps of the pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# The fields a rule can look at, in the order they are reported.
FIELDS: tuple[str, ...] = ("title", "summary", "content")


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry as a parser read it: text may still be HTML, nothing is canonical yet."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    published: datetime | None


@dataclass(frozen=True, slots=True)
class Item:
    """A normalized entry: plain text, canonical link and its identity within its source."""

    source: str
    key: str  # identity within the source (§3.4)
    link: str  # canonical link, "" when the entry has none
    title: str
    summary: str
    content: str
    published: datetime | None  # aware UTC, clamped to the fetch time

    @property
    def article(self) -> str:
        """Identity across sources: one article reaches a subscriber once, ever."""
        return self.link or f"{self.source}\x1f{self.key}"

    def fields(self) -> Mapping[str, str]:
        return {"title": self.title, "summary": self.summary, "content": self.content}


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that fired on an item, with the configured terms that made it fire."""

    rule: str
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DigestItem:
    id: str
    title: str
    link: str
    source: str
    published: datetime | None
    summary: str
    rules: tuple[str, ...]
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Digest:
    """What one delivery carries; ``id`` is stable across retries of the same digest."""

    id: str
    subscriber: str
    created: datetime  # aware UTC
    items: tuple[DigestItem, ...]
