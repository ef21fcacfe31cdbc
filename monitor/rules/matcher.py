"""The compiled matcher: every rule of the configuration applied to an item in one pass.

Compilation gives every distinct term an id: word terms go into one :class:`TermAutomaton`
(every spelling of every term, found in one pass over each field's folded text), regular
expressions into one RE2 set (one pass per field tells which occur). Matching finds every term
of every rule in one scan of each field, then evaluates only the rules one of whose trigger
terms was found (see :mod:`monitor.rules.conditions`).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from monitor.config.rules import CaseTerm, Group, Near, RuleConfig, RuleRef, reference_problems
from monitor.core.errors import ConfigError
from monitor.core.models import FIELDS, Hit, Item, Match
from monitor.rules.automaton import TermAutomaton
from monitor.rules.canonical import FieldText
from monitor.rules.conditions import (
    MAX_HITS,
    Condition,
    GroupCondition,
    NearCondition,
    Occurrence,
    RuleCondition,
    TermCondition,
)
from monitor.rules.plans import AnyRules, CompiledRule, FlatRule, explained, new_tuple
from monitor.terms.regex import RegexSet
from monitor.terms.syntax import RegexTerm, WordTerm, parse_term

# a rule scoped by tags, when tags are checked as items are matched, has TAG + tag among its
# scope's names; an item's scope has TAG + each of its source's tags (no name starts so)
TAG = "\x00tag:"


class _Compiler:
    """Turns the conditions of the configuration into compiled ones, numbering the terms."""

    def __init__(self, positions: Mapping[str, int], index: TermAutomaton) -> None:
        self.positions = positions
        self.index = index
        self.term_ids: dict[tuple[str, bool], int] = {}
        self.lengths: list[int] = []  # of each term as written: a longer term is rarer
        self.word_terms: dict[int, list[tuple[int, WordTerm]]] = {}  # pattern id → terms
        # terms split by punctuation: each is the phrases on either side, found one by one
        self.split_terms: list[tuple[int, tuple[int, ...], WordTerm]] = []
        self.regexes: list[str] = []
        self.regex_ids: list[int] = []
        self.references: list[RuleCondition] = []
        self.problems: list[str] = []  # terms the configuration check would have refused

    def term(self, text: str, where: str, exact: bool = False) -> int:
        term_id = self.term_ids.get((text, exact))
        if term_id is not None:
            return term_id
        try:
            parsed = parse_term(text, case_sensitive=exact)
        except ValueError as exc:
            self.problems.append(f"{where}: {exc}")
            return -1  # found in no text
        term_id = self.term_ids[(text, exact)] = len(self.term_ids)
        self.lengths.append(len(text))
        if isinstance(parsed, RegexTerm):
            self.regexes.append(text)
            self.regex_ids.append(term_id)
        elif parsed.breaks:
            parts = tuple(self.index.add(words) for words in parsed.parts())
            self.split_terms.append((term_id, parts, parsed))
        else:
            pattern = self.index.add(parsed.words)
            self.word_terms.setdefault(pattern, []).append((term_id, parsed))
        return term_id

    def compile(self, condition: object, where: str) -> Condition:
        """The compiled form of one condition of the configuration."""
        compiler = _COMPILERS.get(type(condition))
        if compiler is None:
            raise TypeError(f"{where}: not a rule condition: {condition!r}")
        return compiler(self, condition, where)

    def word(self, condition: str, where: str) -> Condition:
        return TermCondition(self.term(condition, where), condition)

    def case_term(self, condition: CaseTerm, where: str) -> Condition:
        exact = condition.case == "sensitive"
        return TermCondition(self.term(condition.term, where, exact), condition.term)

    def near(self, condition: Near, where: str) -> Condition:
        items = [(t, False) if isinstance(t, str) else (t.term, t.case == "sensitive")
                 for t in condition.near]  # fmt: skip
        return NearCondition(
            tuple(self.term(text, f"{where}.near", exact) for text, exact in items),
            tuple(text for text, _ in items),
            condition.within,
        )

    def reference(self, condition: RuleRef, where: str) -> Condition:
        reference = RuleCondition(condition.rule, self.positions[condition.rule])
        self.references.append(reference)
        return reference

    def group(self, lists: Group | RuleConfig, where: str) -> GroupCondition:
        """The ``any``, ``all`` and ``none`` lists of a group or a rule, compiled."""
        return GroupCondition(
            tuple(self.compile(c, f"{where}.any") for c in lists.any),
            tuple(self.compile(c, f"{where}.all") for c in lists.all),
            tuple(self.compile(c, f"{where}.none") for c in lists.none),
        )


# each kind of condition the configuration gives (monitor.config.rules) and its compiler
_COMPILERS: dict[type, Callable[[_Compiler, Any, str], Condition]] = {
    str: _Compiler.word,
    CaseTerm: _Compiler.case_term,
    Near: _Compiler.near,
    RuleRef: _Compiler.reference,
    Group: _Compiler.group,
}


class ItemTerms:
    """The terms found in one item, field by field, and the rules already evaluated on it.

    ``found`` holds, per field and term, the spans the scan found: in the field's ``spaced``
    text for word terms, in the text itself for regular expressions. They become character
    spans and word ranks only when a rule that fires or a proximity condition asks.
    """

    __slots__ = (
        "_hits", "_item", "_language", "_matcher", "_occurrences", "_results",
        "fields", "found", "ids", "scope",
    )  # fmt: skip

    def __init__(self, matcher: Matcher, item: Item, tags: Sequence[str] = ()) -> None:
        self._matcher = matcher
        self._item = item
        # what a rule's scope is checked against: the item's source, and its source's tags
        # when the matcher checks tags as it matches (see TAG)
        self.scope = frozenset([item.source, *(TAG + tag for tag in tags)])
        self._language: str | bool | None = False  # False: not detected yet
        self._results: dict[int, list[Hit] | None] = {}
        self._hits: dict[tuple[int, tuple[str, ...]], list[Hit] | None] = {}
        self._occurrences: dict[tuple[str, int], list[Occurrence]] = {}
        self.fields: dict[str, FieldText] = {}
        self.found: dict[str, dict[int, list[tuple[int, int]]]] = {}
        self.ids: set[int] = set()

    def occurrences(self, field: str, term_id: int) -> list[Occurrence]:
        """The term's occurrences in ``field`` with word ranks, for proximity."""
        key = (field, term_id)
        occurrences = self._occurrences.get(key)
        if occurrences is None:
            occurrences = []
            found = self.found.get(field, {}).get(term_id)
            if found:
                words = self.fields[field].words
                ranks, regex = words.ranks, term_id in self._matcher.regex_terms
                for start, end in sorted(found):
                    if regex:
                        first = bisect_right(words.text_ends, start)
                        after = max(first, bisect_left(words.text_starts, end))
                    else:
                        first = bisect_left(words.starts, start)
                        after = bisect_left(words.ends, end) + 1
                        start, end = words.text_starts[first], words.text_ends[after - 1]
                    occurrences.append((ranks[first], ranks[after] - ranks[first], start, end))
            self._occurrences[key] = occurrences
        return occurrences

    def in_fields(self, term_id: int, fields: tuple[str, ...]) -> bool:
        """Whether the term was found in one of ``fields``."""
        found = self.found
        return any(term_id in found.get(name, ()) for name in fields)

    def term_hits(self, term_id: int, text: str, fields: tuple[str, ...]) -> list[Hit] | None:
        """The hits of a term in ``fields`` (at most MAX_HITS per field, in text order), or
        None; made once per item, however many rules use the term."""
        key = (term_id, fields)
        if key in self._hits:  # (not try/except KeyError: raising costs more than looking twice)
            return self._hits[key]
        hits = self._hits[key] = self._term_hits(term_id, text, fields)
        return hits

    def _term_hits(self, term_id: int, text: str, fields: tuple[str, ...]) -> list[Hit] | None:
        hits: list[Hit] = []
        found, texts = self.found, self.fields
        regex = term_id in self._matcher.regex_terms
        for name in fields:
            here = found.get(name)
            spans = here.get(term_id) if here else None
            if not spans:
                continue
            # in text order already: one pattern's occurrences end in the order they start
            spans = spans[:MAX_HITS]
            if not regex:  # spans of the field's spaced text: made spans of the text
                field = texts[name]
                if field.aligned:
                    hits += [new_tuple(Hit, (text, name, a - 1, b - 1)) for a, b in spans]
                    continue
                spans = [field.original(start, end) for start, end in spans]
            hits += [new_tuple(Hit, (text, name, start, end)) for start, end in spans]
        return hits or None

    @property
    def source(self) -> str:
        return self._item.source

    def language(self) -> str | None:
        if self._language is False:
            from monitor.rules.language import detect_item  # loads its model: only when a rule asks

            item = self._item
            self._language = detect_item(item.title, item.summary, item.content)
        return self._language if isinstance(self._language, str) else None

    def rule_hits(self, position: int) -> list[Hit] | None:
        if position not in self._results:
            self._results[position] = self._matcher.evaluate(position, self)
        return self._results[position]


class Matcher:
    """The rules of a configuration, compiled once; :meth:`match` is called for every item.

    ``tags`` maps each source to its tags, for rules scoped by ``tags``; ``scoped=False``
    ignores ``sources``/``tags`` scopes (test-rule on a feed that is not configured).
    ``tags_at_match``: no such map (the store holds the sources: ``sources_from: store``),
    the tags of the item's source are given to :meth:`match` and checked then.
    """

    def __init__(
        self,
        rules: Sequence[RuleConfig],
        tags: Mapping[str, Sequence[str]] | None = None,
        *,
        scoped: bool = True,
        lexicon: frozenset[str] | None = None,
        rule_words: bool = True,
        tags_at_match: bool = False,
    ) -> None:
        problems = [
            f"{'.'.join(map(str, loc))}: {message}"
            for loc, message in reference_problems([rule.model_dump() for rule in rules])
        ]
        if problems:
            raise ConfigError(problems)
        # Arabic words in their own right: the shipped lexicon unless told (bench/arabic.py
        # measures each source of them), and the rules' own words
        index = TermAutomaton(lexicon, rule_words=rule_words)
        positions = {rule.name: position for position, rule in enumerate(rules)}
        compiler = _Compiler(positions, index)
        self._rules = [
            self._compile(compiler, rule, tags or {}, scoped, tags_at_match) for rule in rules
        ]
        problems.extend(compiler.problems)
        self._resolve(compiler.references)
        self._automaton = compiler.index
        # pattern id → its terms: those found wherever it is, those whose case is checked
        self._plain_terms: list[tuple[int, ...]] = [()] * len(self._automaton)  # by pattern id
        for pattern, terms in compiler.word_terms.items():
            self._plain_terms[pattern] = tuple(t for t, term in terms if term.exact is None)
        self._exact_terms = {
            pattern: exact
            for pattern, terms in compiler.word_terms.items()
            if (exact := [(term_id, term) for term_id, term in terms if term.exact is not None])
        }
        self._split_terms = tuple(compiler.split_terms)
        self._regexes = RegexSet(compiler.regexes) if compiler.regexes else None
        self._regex_ids = compiler.regex_ids
        self.regex_terms = frozenset(compiler.regex_ids)
        self._rules_of_term: dict[int, list[int]] = {}
        self._requires: list[tuple[frozenset[int], ...]] = []
        for position, rule in enumerate(self._rules):
            requires = rule.body.requires
            if requires is None:
                problems.append(
                    f"rules.{rule.name}: the rule could fire without finding any of its terms; "
                    "give it a term or group that must be found (not only 'none')"
                )
                requires = ()
            self._requires.append(requires)
            if AnyRules.takes(rule):
                continue  # found through AnyRules' index instead
            # indexed under its rarest-looking requirement: the one whose terms are longest
            rarest = max(requires, key=lambda r: (min(compiler.lengths[t] for t in r), -len(r)),
                         default=frozenset())  # fmt: skip
            for term_id in rarest:
                self._rules_of_term.setdefault(term_id, []).append(position)
        if problems:
            raise ConfigError(problems)
        self._fields = tuple(f for f in FIELDS if any(f in r.fields for r in self._rules))
        self._any_rules = AnyRules(self._rules)
        self._flat = [FlatRule.of(rule) for rule in self._rules]
        self._automaton.build()  # now, not on the first item

    @staticmethod
    def _compile(
        compiler: _Compiler,
        rule: RuleConfig,
        tags: Mapping[str, Sequence[str]],
        scoped: bool,
        tags_at_match: bool,
    ) -> CompiledRule:
        sources: frozenset[str] | None = None
        if scoped and (rule.sources is not None or rule.tags is not None):
            wanted = set(rule.tags or ())
            if tags_at_match:  # checked against each item's scope (ItemTerms.scope)
                tagged = {TAG + tag for tag in wanted}
            else:
                tagged = {name for name, its in tags.items() if wanted.intersection(its)}
            sources = frozenset(rule.sources or ()) | tagged
        return CompiledRule(
            rule.name,
            tuple(f for f in FIELDS if f in rule.fields),
            compiler.group(rule, f"rules.{rule.name}"),
            sources,
            frozenset(rule.languages) if rule.languages else None,
        )

    def _resolve(self, references: list[RuleCondition]) -> None:
        """Give each rule reference the trigger of the rule it names, innermost first (there
        are no cycles: :func:`reference_problems` refused them)."""
        pending = list(references)
        while pending:
            ready = [r for r in pending if not _unresolved(self._rules[r.position].body, pending)]
            if not ready:
                raise AssertionError("rule references left unresolved: a cycle slipped through")
            for reference in ready:
                reference.resolved = self._rules[reference.position].body.requires
            pending = [r for r in pending if all(r is not done for done in ready)]

    def evaluate(self, position: int, item: ItemTerms) -> list[Hit] | None:
        """The hits of rule ``position`` on ``item``, or None if it does not fire."""
        rule = self._rules[position]
        return rule.body.evaluate(item, rule.fields) if rule.applies_to(item) else None

    def terms(self, item: Item, tags: Sequence[str] = ()) -> ItemTerms:
        """Every term of every rule found in ``item``, with its positions; ``tags``: those of
        its source, when the matcher checks tags as it matches."""
        found = ItemTerms(self, item, tags)
        fields, terms, ids = found.fields, found.found, found.ids
        texts = [(name, text) for name in self._fields if (text := getattr(item, name))]
        regexes = self._regexes
        candidates = regexes.candidates([t for _, t in texts]) if regexes is not None else ()
        for name, text in texts:
            field = fields[name] = FieldText.of(text)
            here = terms[name] = self._scan(field)
            if candidates and regexes is not None:
                for index, start, end in regexes.find(text, candidates):
                    here.setdefault(self._regex_ids[index], []).append((start, end))
            ids.update(here)
        return found

    def _scan(self, field: FieldText) -> dict[int, list[tuple[int, int]]]:
        plain, exact = self._plain_terms, self._exact_terms
        patterns = self._automaton.find(field)
        found = {term_id: spans for p, spans in patterns.items() for term_id in plain[p]}
        for pattern_id, spans in patterns.items() if exact else ():
            if pattern_id in exact:
                for term_id, term in exact[pattern_id]:
                    if kept := _as_written(field, term, spans):
                        found[term_id] = kept
        for term_id, parts, term in self._split_terms:
            if all(part in patterns for part in parts):
                spans = _chained(field.spaced, [patterns[part] for part in parts])
                if spans := _as_written(field, term, spans):
                    found[term_id] = spans
        return found

    def match_fields(self, fields: Mapping[str, str], source: str = "") -> list[Match]:
        """:meth:`match` on bare text fields (``title``, ``summary``, ``content``)."""
        get = fields.get
        item = Item(source, "", "", get("title", ""), get("summary", ""), get("content", ""), None)
        return self.match(item)

    def match(self, item: Item, tags: Sequence[str] = ()) -> list[Match]:
        """The rules that fire on ``item``, in configuration order, with their hits (``tags``:
        its source's, when the matcher checks tags as it matches)."""
        found = self.terms(item, tags)
        matches = self._any_rules.matches(found)
        candidates: set[int] = set()
        for term_id in found.ids:
            candidates.update(self._rules_of_term.get(term_id, ()))
        requires, ids, flat = self._requires, found.ids, self._flat
        for position in candidates:
            for need in requires[position]:
                if ids.isdisjoint(need):
                    break  # a term the rule needs is missing: nothing to evaluate
            else:
                plain = flat[position]
                if plain is not None:
                    match = plain.match(found)
                else:
                    hits = found.rule_hits(position)
                    match = None if hits is None else explained(self._rules[position].name, hits)
                if match is not None:
                    matches.append((position, match))
        matches.sort(key=itemgetter(0))
        return [match for _, match in matches]


def _chained(spaced: str, parts: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """The spans of ``spaced`` where an occurrence of each part follows one of the part
    before it with only a gap between (spaces, punctuation: no word)."""
    spans = parts[0]
    for following in parts[1:]:
        ends_at = {start: end for start, end in following}
        chained = []
        for start, end in spans:
            at = end
            while at < len(spaced) and spaced[at] == " ":
                at += 1
            if at in ends_at:
                chained.append((start, ends_at[at]))
        spans = chained
    return spans


def _as_written(
    field: FieldText, term: WordTerm, spans: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The spans whose words are written as a case-sensitive term wants (all, for another)."""
    if term.exact is None:
        return spans
    return [span for span in spans if term.verifies(_written(field, *span))]


def _written(field: FieldText, start: int, end: int) -> list[str]:
    """The words of ``field.spaced[start:end]`` as the text writes them (without the word
    table, which only proximity needs)."""
    written, at = [], start
    for word in field.spaced[start:end].split(" "):
        if word:
            a, b = field.original(at, at + len(word))
            written.append(field.text[a:b])
        at += len(word) + 1
    return written


def _unresolved(condition: object, pending: list[RuleCondition]) -> bool:
    """Whether ``condition`` contains a rule reference still in ``pending``."""
    if isinstance(condition, RuleCondition):
        return any(condition is reference for reference in pending)
    if isinstance(condition, GroupCondition):
        children = (*condition.any, *condition.all, *condition.none)
        return any(_unresolved(c, pending) for c in children)
    return False
