"""The compiled matcher: every rule of the configuration applied to an item in one pass.

Compilation puts every distinct term of every rule into one :class:`TermIndex`. Matching
tokenises each field once, finds which terms occur in it, then evaluates only the rules that
one of those terms can make fire (a rule fires only if some ``any`` or ``all`` term is found).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.errors import ConfigError
from monitor.models import FIELDS, Match
from monitor.rules.terms import TermIndex, term_problem
from monitor.rules.text import term_words, tokenize

if TYPE_CHECKING:  # monitor.config may import monitor.rules (term_problem): no cycle at run time
    from monitor.config import RuleConfig

# One configured term: as written (to report it) and its id in the index.
_Term = tuple[str, int]


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    fields: tuple[str, ...]
    any: tuple[_Term, ...]
    all: tuple[_Term, ...]
    none: tuple[_Term, ...]

    def evaluate(self, found: set[int]) -> Match | None:
        """The match if the rule fires given the term ids ``found`` in its fields."""
        if self.any and not any(term_id in found for _, term_id in self.any):
            return None
        if not all(term_id in found for _, term_id in self.all):
            return None
        if any(term_id in found for _, term_id in self.none):
            return None
        terms = dict.fromkeys(text for text, term_id in self.any + self.all if term_id in found)
        return Match(self.name, tuple(terms))


class Matcher:
    """The rules of a configuration, compiled once; :meth:`match` is called for every item."""

    def __init__(self, rules: Sequence[RuleConfig]) -> None:
        self._index = TermIndex()
        self._rules: list[_Rule] = []
        self._rules_of_term: dict[int, list[int]] = {}  # positive term id → rule positions
        problems: list[str] = []
        for position, config in enumerate(rules):
            compiled: dict[str, tuple[_Term, ...]] = {}
            for kind in ("any", "all", "none"):
                terms: list[_Term] = []
                for text in getattr(config, kind):
                    problem = term_problem(text)
                    if problem is not None:
                        problems.append(f"rules.{config.name}.{kind}: {problem}")
                        continue
                    terms.append((text, self._index.add(term_words(text))))
                compiled[kind] = tuple(terms)
            rule = _Rule(
                config.name,
                tuple(f for f in FIELDS if f in config.fields),
                compiled["any"],
                compiled["all"],
                compiled["none"],
            )
            self._rules.append(rule)
            for _, term_id in rule.any + rule.all:
                positions = self._rules_of_term.setdefault(term_id, [])
                if not positions or positions[-1] != position:
                    positions.append(position)
        if problems:
            raise ConfigError(problems)
        self._fields = tuple(f for f in FIELDS if any(f in rule.fields for rule in self._rules))

    def match(self, fields: Mapping[str, str]) -> list[Match]:
        """The rules that fire on an item's plain-text ``fields`` (``title``, ``summary``,
        ``content``; a missing one is empty), in configuration order."""
        found = {name: self._index.found(tokenize(fields.get(name, ""))) for name in self._fields}
        candidates: set[int] = set()
        for term_ids in found.values():
            for term_id in term_ids:
                candidates.update(self._rules_of_term.get(term_id, ()))
        # Rules with the same fields see the same terms: unite each field combination once.
        union: dict[tuple[str, ...], set[int]] = {}
        matches: list[Match] = []
        for position in sorted(candidates):
            rule = self._rules[position]
            seen = union.get(rule.fields)
            if seen is None:
                seen = union[rule.fields] = set().union(*(found[f] for f in rule.fields))
            match = rule.evaluate(seen)
            if match is not None:
                matches.append(match)
        return matches
