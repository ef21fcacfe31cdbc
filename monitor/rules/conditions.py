"""Compiled conditions, evaluated over the terms found in one item.

Each condition answers with the hits that make it true, or ``None`` when it is false; a true
condition may have no hits (``none: [énergie]`` on an item without it). Its *trigger* is a set
of term ids of which at least one must be found for it to be true (``None``: it can be true
with none of them), so that the matcher only evaluates rules one of whose terms occurs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from monitor.models import Hit

if TYPE_CHECKING:
    from monitor.rules.matcher import ItemTerms

Trigger = frozenset[int] | None


class Condition(Protocol):
    @property
    def trigger(self) -> Trigger: ...

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None: ...


@dataclass(frozen=True, slots=True)
class TermCondition:
    """A term found in one of the fields."""

    term_id: int
    text: str

    @property
    def trigger(self) -> Trigger:
        return frozenset((self.term_id,))

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None:
        hits = [
            Hit(self.text, name, start, end)
            for name in fields
            for _, _, start, end in item.occurrences(name, self.term_id)
        ]
        return hits or None


@dataclass(frozen=True, slots=True)
class NearCondition:
    """Every term in one field, with at most ``within`` words between them, in any order."""

    term_ids: tuple[int, ...]
    texts: tuple[str, ...]
    within: int

    @property
    def trigger(self) -> Trigger:
        return frozenset(self.term_ids[:1])  # all must be found, so the first must be

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None:
        for name in fields:
            lists = [item.occurrences(name, term_id) for term_id in self.term_ids]
            if all(lists):
                window = _window(lists, self.within)
                if window is not None:
                    return [
                        Hit(self.texts[k], name, start, end)
                        for k, (_, _, start, end) in enumerate(window)
                    ]
        return None


Occurrence = tuple[int, int, int, int]  # first word, word count, start and end characters


def _window(lists: list[list[Occurrence]], within: int) -> list[Occurrence] | None:
    """One occurrence from each list, at most ``within`` words apart (the words between the
    end of the earliest-ending one and the start of the latest-starting one), or None.

    Scanning every occurrence in text order while remembering the latest of each term finds
    such a window if there is one: the latest occurrences are the closest to the current one.
    """
    events = sorted((occ[0], k, occ) for k, occurrences in enumerate(lists) for occ in occurrences)
    latest: list[Occurrence | None] = [None] * len(lists)
    for first, k, occurrence in events:
        latest[k] = occurrence
        if all(o is not None for o in latest):
            chosen = [o for o in latest if o is not None]
            if first - min(o[0] + o[1] for o in chosen) <= within:
                return chosen
    return None


@dataclass(frozen=True, slots=True)
class GroupCondition:
    """``any``, ``all`` and ``none`` lists, true as a rule's are: one of ``any`` (if given),
    every one of ``all``, none of ``none``."""

    any: tuple[Condition, ...] = ()
    all: tuple[Condition, ...] = ()
    none: tuple[Condition, ...] = ()

    @property
    def trigger(self) -> Trigger:
        # Each of these must hold for the group to be true; the smallest is the best filter.
        needed: list[frozenset[int]] = []
        if self.any and all(c.trigger is not None for c in self.any):
            needed.append(frozenset().union(*(c.trigger or () for c in self.any)))
        needed.extend(c.trigger for c in self.all if c.trigger is not None)
        return min(needed, key=len) if needed else None

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None:
        hits: list[Hit] = []
        if self.any:
            found = [h for c in self.any if (h := c.evaluate(item, fields)) is not None]
            if not found:
                return None
            hits.extend(hit for some in found for hit in some)
        for condition in self.all:
            some = condition.evaluate(item, fields)
            if some is None:
                return None
            hits.extend(some)
        if any(c.evaluate(item, fields) is not None for c in self.none):
            return None
        return hits


@dataclass(slots=True)
class RuleCondition:
    """Another rule fires on the item (with its own fields and scope)."""

    name: str
    position: int
    resolved: Trigger = field(default=None)  # set once the referenced rule is compiled

    @property
    def trigger(self) -> Trigger:
        return self.resolved

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None:
        return item.rule_hits(self.position)
