"""Compiled conditions, evaluated over the terms found in one item.

Each condition answers with the hits that make it true, or ``None`` when it is false; a true
condition may have no hits (``none: [énergie]`` on an item without it). Its *requirements* are
sets of term ids, each of which must meet the terms found for it to be true (``None``: it can be
true with no term found), so that the matcher evaluates a rule only when every one of them is
met: a rule ``all: [le, X]`` is not even looked at on the many items with ``le`` but no X.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from monitor.core.models import Hit

if TYPE_CHECKING:
    from monitor.rules.matcher import ItemTerms

Requirements = tuple[frozenset[int], ...] | None
MAX_HITS = 10  # hits kept per term and field: enough to explain and highlight


class Condition(Protocol):
    @property
    def requires(self) -> Requirements: ...

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None: ...


@dataclass(frozen=True, slots=True)
class TermCondition:
    """A term found in one of the fields."""

    term_id: int
    text: str

    @property
    def requires(self) -> Requirements:
        return (frozenset((self.term_id,)),)

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None:
        if self.term_id not in item.ids:
            return None
        return item.term_hits(self.term_id, self.text, fields)


@dataclass(frozen=True, slots=True)
class NearCondition:
    """Every term in one field, with at most ``within`` words between them, in any order."""

    term_ids: tuple[int, ...]
    texts: tuple[str, ...]
    within: int
    terms: frozenset[int] = frozenset()  # the term ids as a set, for a quick first check

    def __post_init__(self) -> None:
        object.__setattr__(self, "terms", frozenset(self.term_ids))

    @property
    def requires(self) -> Requirements:
        # the longest term first: the likeliest to be rare, which a group in an ``any`` list
        # relies on (it looks at one requirement of each of its conditions)
        by_length = sorted(zip(self.texts, self.term_ids, strict=True), key=lambda t: -len(t[0]))
        return tuple(frozenset((term_id,)) for term_id in dict.fromkeys([t for _, t in by_length]))

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None:
        if not self.terms <= item.ids:
            return None
        for name in fields:
            here = item.found.get(name)
            if not here or any(term_id not in here for term_id in self.term_ids):
                continue  # ranks are worked out only where every term is
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
            if first - min(o[0] + o[1] for o in chosen) <= within and _apart(chosen):
                return chosen
    return None


def _apart(chosen: list[Occurrence]) -> bool:
    """Whether no two occurrences share a word: ``near: [IA, IA]`` needs two of them, and
    ``near: ["centre d'appel", appel]`` an appel outside the phrase."""
    spans = sorted((o[0], o[0] + o[1]) for o in chosen)
    return all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))


@dataclass(frozen=True, slots=True)
class GroupCondition:
    """``any``, ``all`` and ``none`` lists, true as a rule's are: one of ``any`` (if given),
    every one of ``all``, none of ``none``."""

    any: tuple[Condition, ...] = ()
    all: tuple[Condition, ...] = ()
    none: tuple[Condition, ...] = ()

    @property
    def requires(self) -> Requirements:
        # one of the ``any`` conditions holds: one requirement of each of them is met
        needed: list[frozenset[int]] = []
        firsts = [c.requires[0] if c.requires else None for c in self.any]
        if firsts and all(first is not None for first in firsts):
            needed.append(frozenset().union(*[f for f in firsts if f is not None]))
        for condition in self.all:  # every ``all`` condition holds: all their requirements
            needed.extend(condition.requires or ())
        return tuple(dict.fromkeys(needed)) or None

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
    resolved: Requirements = field(default=None)  # set once the referenced rule is compiled

    @property
    def requires(self) -> Requirements:
        return self.resolved

    def evaluate(self, item: ItemTerms, fields: tuple[str, ...]) -> list[Hit] | None:
        return item.rule_hits(self.position)
