"""How a compiled rule is matched against the terms found in an item, fastest way first.

- :class:`AnyRules`: rules that fire when any of their bare terms is found (an ``any`` list,
  maybe a ``none`` list, maybe limited to some fields or sources) — most rules. They are found
  from the terms found, through an index of term → rules: a rule none of whose terms is in the
  item costs nothing, and one that fires costs little more than its explanation.
- :class:`FlatRule`: rules of terms and proximity conditions without nested groups, evaluated in
  one loop once the terms they require are in the item.
- Any other rule (nested groups, rule references) is evaluated condition by condition
  (:mod:`monitor.rules.conditions`).

All three give the same matches (tests/rules/test_rule_plans.py checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, NamedTuple

from monitor.core.models import FIELDS, Hit, Match
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
        if self.sources is not None and self.sources.isdisjoint(item.scope):
            return False
        return self.languages is None or item.language() in self.languages


class _AnyRule(NamedTuple):
    """What AnyRules checks of a rule once one of its terms is found."""

    name: str
    sources: frozenset[str] | None
    fields: tuple[str, ...]
    none: frozenset[int]
    terms: tuple[int, ...]  # in the order of the rule's any list


class _Group(NamedTuple):
    """The rules of one term that look at the same fields, in aligned tuples."""

    fields: tuple[str, ...]
    positions: tuple[int, ...]
    names: tuple[str, ...]
    scopes: tuple[tuple[frozenset[str] | None, frozenset[int]], ...] | None  # of each rule:
    # its sources and none terms; None when no rule of the group has either


class AnyRules:
    """The rules that fire as soon as one of their terms is found (see the module docstring),
    indexed by term and grouped by the fields they look at: the rules of a term found in those
    fields fire together, less those whose sources or none list say no. A rule with several
    of its terms in the item is matched on its own, to explain it with all of them."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self._rules: dict[int, _AnyRule] = {}  # by position: every rule AnyRules takes
        self._texts: dict[int, str] = {}
        groups: dict[int, dict[tuple[str, ...], list[int]]] = {}  # term → fields → positions
        for position, rule in enumerate(rules):
            body = rule.body
            if not AnyRules.takes(rule):
                continue
            conditions = [c for c in body.any if isinstance(c, TermCondition)]  # all (takes)
            terms = tuple(dict.fromkeys([c.term_id for c in conditions]))
            self._texts.update((c.term_id, c.text) for c in conditions)
            none = frozenset(c.term_id for c in body.none if isinstance(c, TermCondition))
            self._rules[position] = _AnyRule(rule.name, rule.sources, rule.fields, none, terms)
            for term_id in terms:
                groups.setdefault(term_id, {}).setdefault(rule.fields, []).append(position)
        self._groups = {
            term_id: tuple(self._group(fields, positions) for fields, positions in by.items())
            for term_id, by in groups.items()
        }

    def _group(self, fields: tuple[str, ...], positions: list[int]) -> _Group:
        rules = [self._rules[position] for position in positions]
        scopes = tuple((rule.sources, rule.none) for rule in rules)
        plain = all(sources is None and not none for sources, none in scopes)
        names = tuple(rule.name for rule in rules)
        return _Group(fields, tuple(positions), names, None if plain else scopes)

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
        ids, scope, texts, term_hits = item.ids, item.scope, self._texts, item.term_hits
        seen: set[int] = set()
        twice: set[int] = set()  # rules with several terms in the item
        fired: list[tuple[str, tuple[int, ...], tuple[str, ...], tuple[Hit, ...]]] = []
        for term_id in ids:
            groups = self._groups.get(term_id)
            if groups is None:
                continue
            text = texts[term_id]
            for fields, positions, names, scopes in groups:
                hits = term_hits(term_id, text, fields)
                if hits is None:
                    continue  # not in these fields
                if scopes is not None:
                    kept = [
                        k
                        for k, (sources, none) in enumerate(scopes)
                        if (sources is None or not sources.isdisjoint(scope))
                        and (none.isdisjoint(ids) or not _excluded(item, none, fields))
                    ]
                    if not kept:
                        continue
                    positions = tuple(positions[k] for k in kept)
                    names = tuple(names[k] for k in kept)
                if not seen.isdisjoint(positions):
                    twice.update(seen.intersection(positions))
                seen.update(positions)
                fired.append((text, positions, names, tuple(hits)))
        matches: list[tuple[int, Match]] = []
        for text, positions, names, explanation in fired:
            if twice and not twice.isdisjoint(positions):
                kept = [k for k, position in enumerate(positions) if position not in twice]
                positions = tuple(positions[k] for k in kept)
                names = tuple(names[k] for k in kept)
            # one Match per rule, made in C: the term alone explains each of these rules
            made = map(new_tuple, repeat(Match), zip(names, repeat((text,)), repeat(explanation)))
            matches += zip(positions, made, strict=True)
        for position in twice:
            matches.append((position, self._several(item, self._rules[position])))
        return matches

    def _several(self, item: ItemTerms, rule: _AnyRule) -> Match:
        """The match of a rule that fired on several of its terms (its scope already checked
        by :meth:`matches`), explained by all of them."""
        texts = self._texts
        found = [
            hit
            for term_id in rule.terms
            if term_id in item.ids
            for hit in item.term_hits(term_id, texts[term_id], rule.fields) or ()
        ]
        return explained(rule.name, found)


def _excluded(item: ItemTerms, none: frozenset[int], fields: tuple[str, ...]) -> bool:
    """Whether one of the ``none`` terms is in one of ``fields``."""
    return any(item.in_fields(term_id, fields) for term_id in none & item.ids)


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
            return new_tuple(Match, (rule.name, (hits[0].term,), tuple(hits)))
        return explained(rule.name, [hit for hits in found if hits is not _NEAR for hit in hits])

    def _hits(self, item: ItemTerms, fields: tuple[str, ...]) -> list[list[Hit]] | None:
        """The hits of each condition that holds (after a proximity's, the marker _NEAR), or
        None if the rule does not fire."""
        ids, term_hits = item.ids, item.term_hits
        found: list[list[Hit]] = []
        for term_id, text, near in self.any:
            if near is not None:
                # (evaluate checks its terms too; checking here first spares the call)
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
        return new_tuple(Match, (rule, (hits[0].term,), (hits[0],)))
    terms = tuple(dict.fromkeys([hit.term for hit in hits]))
    ordered = sorted(dict.fromkeys(hits), key=_text_order)
    return new_tuple(Match, (rule, terms, tuple(ordered)))


def _text_order(hit: Hit) -> tuple[int, int, int]:
    return _FIELD_ORDER[hit.field], hit.start, hit.end
