"""How a compiled rule is matched against the terms found in an item, fastest way first.

- :class:`AnyRules`: rules that fire when any of their bare terms is found (an ``any`` list,
  maybe a ``none`` list, maybe limited to some fields or sources) — most rules. They are found
  from the terms found, through an index of term → rules: a rule none of whose terms is in the
  item costs nothing, and one that fires costs little more than its explanation.
- :class:`FlatRule`: rules of terms and proximity conditions without nested groups, evaluated in
  one loop once the terms they require are in the item.
- Any other rule (nested groups, rule references) is evaluated condition by condition
  (:mod:`monitor.rules.conditions`).

All three give the same matches (tests/test_rule_plans.py checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, NamedTuple

from monitor.models import FIELDS, Hit, Match
from monitor.rules.conditions import (
    Condition,
    GroupCondition,
    NearCondition,
    TermCondition,
)

# Hit((…)), Match((…)) without the named tuple's __new__: twice as fast where many are made
new_tuple = tuple.__new__

if TYPE_CHECKING:
    from monitor.rules.matcher import ItemTerms


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule of the configuration, its conditions compiled (term ids), its scope resolved."""

    name: str
    fields: tuple[str, ...]
    body: GroupCondition
    sources: frozenset[str] | None  # None: every source
    languages: frozenset[str] | None

    def applies_to(self, item: ItemTerms) -> bool:
        """Whether the item is in the rule's scope (its sources, its languages)."""
        if self.sources is not None and item.source not in self.sources:
            return False
        return self.languages is None or item.language() in self.languages


class _Checked(NamedTuple):
    """What AnyRules checks of a rule it cannot take on one term's word."""

    name: str
    sources: frozenset[str] | None
    fields: tuple[str, ...]
    none: frozenset[int]
    terms: tuple[int, ...]  # in the order of the rule's any list


class AnyRules:
    """The rules that fire as soon as one of their terms is found (see the module docstring),
    indexed by term. A rule limited to some fields or sources, or with a none list, or with
    several of its terms in the item, is checked one by one once one of its terms is found."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        # term id → the positions and names of its plain rules, in two aligned tuples
        self._plain: dict[int, tuple[tuple[int, ...], tuple[str, ...]]] = {}
        self._checked_by_term: dict[int, tuple[int, ...]] = {}  # and of the checked ones
        self._checked: dict[int, _Checked] = {}  # by position: every rule AnyRules takes
        self._texts: dict[int, str] = {}
        plain: dict[int, list[tuple[int, str]]] = {}
        checked: dict[int, list[int]] = {}
        for position, rule in enumerate(rules):
            body = rule.body
            if not AnyRules.takes(rule):
                continue
            conditions = [c for c in body.any if isinstance(c, TermCondition)]  # all (takes)
            terms = tuple(dict.fromkeys(c.term_id for c in conditions))
            self._texts.update((c.term_id, c.text) for c in conditions)
            none = frozenset(c.term_id for c in body.none if isinstance(c, TermCondition))
            self._checked[position] = _Checked(rule.name, rule.sources, rule.fields, none, terms)
            if body.none or rule.fields != FIELDS or rule.sources is not None:
                for term_id in terms:
                    checked.setdefault(term_id, []).append(position)
            else:
                for term_id in terms:
                    plain.setdefault(term_id, []).append((position, rule.name))
        for term_id, pairs in plain.items():
            positions, names = zip(*pairs, strict=True)
            self._plain[term_id] = (positions, names)
        self._checked_by_term = {term_id: tuple(ps) for term_id, ps in checked.items()}

    @staticmethod
    def takes(rule: CompiledRule) -> bool:
        body = rule.body
        return (
            bool(body.any)
            and not body.all
            and all(isinstance(c, TermCondition) for c in (*body.any, *body.none))
            and rule.languages is None
        )

    def matches(self, item: ItemTerms) -> list[tuple[int, Match]]:
        """``(position, match)`` of every such rule that fires on ``item``, in no order."""
        ids, plain, checked_by_term = item.ids, self._plain, self._checked_by_term
        seen: set[int] = set()
        twice: set[int] = set()  # plain rules with several terms in the item: checked too
        checked: set[int] = set()
        found: list[tuple[int, tuple[int, ...], tuple[str, ...]]] = []
        for term_id in ids:
            if term_id in plain:
                positions, names = plain[term_id]
                if not seen.isdisjoint(positions):
                    twice.update(seen.intersection(positions))
                seen.update(positions)
                found.append((term_id, positions, names))
            if term_id in checked_by_term:
                checked.update(checked_by_term[term_id])
        matches: list[tuple[int, Match]] = []
        texts, term_hits = self._texts, item.term_hits
        for term_id, positions, names in found:
            text = texts[term_id]
            hits = tuple(term_hits(term_id, text, FIELDS) or ())
            if twice and not twice.isdisjoint(positions):
                kept = [(p, n) for p, n in zip(positions, names, strict=True) if p not in twice]
                positions, names = tuple(p for p, _ in kept), tuple(n for _, n in kept)
            # one Match per rule, made in C: a term alone explains each of these rules
            made = map(new_tuple, repeat(Match), zip(names, repeat((text,)), repeat(hits)))
            matches += zip(positions, made, strict=True)
        checked |= twice
        for position in checked:
            match = self._match(item, self._checked[position])
            if match is not None:
                matches.append((position, match))
        return matches

    def _match(self, item: ItemTerms, rule: _Checked) -> Match | None:
        """The match of a rule with several terms in the item, or limited to some fields or
        sources, or with a none list."""
        ids = item.ids
        if rule.sources is not None and item.source not in rule.sources:
            return None
        fields, texts = rule.fields, self._texts
        none = rule.none
        if none and not none.isdisjoint(ids) and any(item.in_fields(t, fields) for t in none & ids):
            return None
        present = [term_id for term_id in rule.terms if term_id in ids]
        if len(present) == 1:  # one term's hits: in text order, each once
            text = texts[present[0]]
            hits = item.term_hits(present[0], text, fields)
            return None if hits is None else new_tuple(Match, (rule.name, (text,), tuple(hits)))
        found = [
            hit
            for term_id in present
            for hit in item.term_hits(term_id, texts[term_id], fields) or ()
        ]
        return explained(rule.name, found) if found else None


Leaf = tuple[int, str, NearCondition | None]  # a term (id, text) or a proximity condition


@dataclass(frozen=True, slots=True)
class FlatRule:
    """A rule of terms and proximity conditions with no group inside, matched without a call
    per term, its explanation made from its terms' hits directly."""

    rule: CompiledRule
    any: tuple[Leaf, ...]
    all: tuple[Leaf, ...]
    none: tuple[int, ...]

    @classmethod
    def of(cls, rule: CompiledRule) -> FlatRule | None:
        body = rule.body

        def leaves(conditions: tuple[Condition, ...]) -> tuple[Leaf, ...] | None:
            found: list[Leaf] = []
            for c in conditions:
                if isinstance(c, TermCondition):
                    found.append((c.term_id, c.text, None))
                elif isinstance(c, NearCondition):
                    found.append((-1, "", c))
                else:
                    return None
            return tuple(found)

        any_, all_ = leaves(body.any), leaves(body.all)
        none = tuple(c.term_id for c in body.none if isinstance(c, TermCondition))
        if any_ is None or all_ is None or len(none) != len(body.none):
            return None
        return cls(rule, any_, all_, none)

    def match(self, item: ItemTerms) -> Match | None:
        rule = self.rule
        if not rule.applies_to(item):
            return None
        found = self._hits(item, rule.fields)
        if found is None:
            return None
        if len(found) == 1 and found[0] is not _NEAR:  # one term's hits: in order, each once
            (hits,) = found
            return Match(rule.name, (hits[0].term,), tuple(hits))
        return explained(rule.name, [hit for hits in found if hits is not _NEAR for hit in hits])

    def _hits(self, item: ItemTerms, fields: tuple[str, ...]) -> list[list[Hit]] | None:
        """The hits of each condition that holds (after a proximity's, the marker _NEAR), or
        None if the rule does not fire."""
        ids, term_hits = item.ids, item.term_hits
        found: list[list[Hit]] = []
        for term_id, text, near in self.any:
            if near is not None:
                hits = near.evaluate(item, fields) if near.terms <= ids else None
                if hits is not None:
                    found += (hits, _NEAR)
            elif term_id in ids and (hits := term_hits(term_id, text, fields)) is not None:
                found.append(hits)
        if self.any and not found:
            return None
        for term_id, text, near in self.all:
            if near is not None:
                hits = near.evaluate(item, fields)
                found += (hits, _NEAR) if hits is not None else ()
            else:
                hits = term_hits(term_id, text, fields) if term_id in ids else None
                found += (hits,) if hits is not None else ()
            if hits is None:
                return None
        for term_id in self.none:
            if term_id in ids and item.in_fields(term_id, fields):
                return None
        return found


_NEAR: list[Hit] = []  # follows a proximity's hits among a flat rule's: they need ordering


_FIELD_ORDER = {name: order for order, name in enumerate(FIELDS)}


def explained(rule: str, hits: list[Hit]) -> Match:
    """The match of ``rule``: its terms in the order the rule found them, its hits in text
    order, each once (a term's hits are already at most MAX_HITS per field)."""
    if len(hits) == 1:
        return Match(rule, (hits[0].term,), (hits[0],))
    terms = tuple(dict.fromkeys(hit.term for hit in hits))
    ordered = sorted(dict.fromkeys(hits), key=_text_order)
    return Match(rule, terms, tuple(ordered))


def _text_order(hit: Hit) -> tuple[int, int, int]:
    return _FIELD_ORDER[hit.field], hit.start, hit.end
