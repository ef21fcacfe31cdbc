"""Every word term of the rules found in one pass over a field, whatever their number.

A term's words are turned back into their spellings (:func:`monitor.terms.words.spellings`:
``centre`` is also ``centres``, ``center``, ``centers``), and each spelling of the whole phrase,
between spaces, goes into one Aho-Corasick automaton (pyahocorasick) that is run over the
field's ``spaced`` text (:mod:`monitor.rules.canonical`). A found phrase is a match when no
phrase break lies between its words; nothing else is checked in the usual case.

Two kinds of term are only begun by the automaton and finished by :meth:`TermAutomaton._rest`,
word by word: a wildcard word (the automaton finds the beginnings of the words that may carry
the prefix, :func:`~monitor.terms.words.prefix_spellings`; the word is then checked), and a
phrase with more spellings than :data:`MAX_SPELLINGS` (its first words are looked for).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import ahocorasick

from monitor.rules.canonical import AE, OE, FieldText, plain
from monitor.terms import arabic
from monitor.terms.arabic import Known
from monitor.terms.syntax import WILDCARD, prefix_forms
from monitor.terms.words import prefix_spellings, spellings, starts_with

MAX_SPELLINGS = 256  # spellings of one phrase put in the automaton; beyond, its first words
_LIGATURES = re.compile("oe|ae")
_PLACEHOLDERS = {"oe": OE, "ae": AE}


MAX_LIGATURES = 4  # oe/ae pairs of a spelling written either way independently; beyond, all
# one way or all the other (a text writes a word with œ or with oe, rarely both)


def _with_ligatures(text: str) -> Iterator[str]:
    """``text`` with every ``oe``/``ae`` written either way (the text may have ``œ``)."""
    parts = _LIGATURES.split(text)
    found = _LIGATURES.findall(text)
    if len(found) > MAX_LIGATURES:
        chosen_ways: Iterator[tuple[str, ...]] = iter(
            [tuple(found), tuple(_PLACEHOLDERS[pair] for pair in found)]
        )
    else:
        chosen_ways = itertools.product(*[(pair, _PLACEHOLDERS[pair]) for pair in found])
    for chosen in chosen_ways:
        yield "".join(itertools.chain.from_iterable(zip(parts, (*chosen, ""), strict=True)))


@dataclass(frozen=True, slots=True)
class _Word:
    """One word of a pattern: its spellings (with ligature placeholders), or for a wildcard
    word the folded prefixes whose words it matches."""

    spellings: frozenset[str] = frozenset()
    forms: tuple[str, ...] = ()  # a wildcard word's prefixes

    def matches(self, word: str) -> bool:
        if self.forms:
            return starts_with(plain(word), self.forms)
        return word in self.spellings


COMPLETE, WORD_END, REST = 0, 1, 2  # what is left after a key is found (see _Anchor)


class _Anchor(NamedTuple):
    """What one automaton key stands for: the first ``words`` words of a pattern (and, when
    ``partial``, the beginning of the next, a wildcard word)."""

    pattern: int
    length: int  # of the key
    phrase: bool  # the key has several words: no phrase break may lie between them
    rest: int  # COMPLETE: the key is the whole pattern; WORD_END: all but the end of its
    # last word, which starts as the wildcard asks; REST: words to check (_rest)
    words: int  # pattern words the key covers fully
    partial: bool


CROWD = 8  # anchors of one key with words left to check, beyond which they are indexed


@dataclass(frozen=True, slots=True)
class _Crowd:
    """The anchors of a key that many patterns share and that each need words after the key
    checked (``centre* d'appel``, ``centre* de contact``…): indexed by the spellings of the
    word that follows the key (after the wildcard word it ends in, if any), so an occurrence
    checks only the patterns that can go on there."""

    others: tuple[_Anchor, ...]  # not indexed: finished by the key, or no literal word next
    by_next: dict[str, tuple[_Anchor, ...]]
    partial: bool  # the key ends inside a wildcard word

    @classmethod
    def of(cls, anchors: list[_Anchor], patterns: list[tuple[_Word, ...]]) -> _Crowd:
        others: list[_Anchor] = []
        by_next: dict[str, list[_Anchor]] = {}
        for anchor in anchors:
            pattern = patterns[anchor.pattern]
            following = anchor.words + anchor.partial
            if anchor.rest != REST or following >= len(pattern) or pattern[following].forms:
                others.append(anchor)
                continue
            for spelling in pattern[following].spellings:
                by_next.setdefault(spelling, []).append(anchor)
        partial = anchors[0].partial
        return cls(tuple(others), {w: tuple(a) for w, a in by_next.items()}, partial)

    def candidates(self, spaced: str, last: int) -> tuple[_Anchor, ...]:
        """The anchors worth checking for the key found ending at ``last``."""
        end = spaced.find(" ", last) if self.partial else last
        at = end + 1
        if end < 0 or at >= len(spaced) or spaced[at] == " ":
            return self.others
        word = spaced[at : spaced.find(" ", at)]
        return self.others + self.by_next.get(word, ())


class TermAutomaton:
    """Distinct word patterns, each with a small integer id; equal patterns share one id."""

    def __init__(self, lexicon: frozenset[str] | None = None, *, rule_words: bool = True) -> None:
        self._ids: dict[tuple[tuple[str, ...], ...], int] = {}
        self._canonical: list[tuple[tuple[str, ...], ...]] = []
        self._patterns: list[tuple[_Word, ...]] = []
        self._keys: dict[str, list[_Anchor]] = {}
        self._automaton: ahocorasick.Automaton | None = None
        # Arabic words in their own right (monitor.terms.arabic); None: the shipped lexicon,
        # read only when a pattern has an Arabic word
        self._lexicon = lexicon
        self._rule_words = rule_words  # and the words of the patterns themselves

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, words: Sequence[Sequence[str]]) -> int:
        """The id of the pattern made of ``words`` (non-empty; each word as its keys, a
        wildcard word as ``prefix*``), adding it if it is new."""
        if not words or not all(words):
            raise ValueError("a pattern needs at least one word, each with a key")
        canonical = tuple(tuple(keys) for keys in words)
        pattern_id = self._ids.get(canonical)
        if pattern_id is not None:
            return pattern_id
        pattern_id = self._ids[canonical] = len(self._ids)
        self._canonical.append(canonical)
        self._automaton = None
        return pattern_id

    def _spell(self) -> None:
        """Each pattern's words spelt out and its automaton keys, once every pattern is known:
        an Arabic form that is another pattern's word is not a spelling of this one."""
        words = frozenset(key for pattern in self._canonical for keys in pattern for key in keys)
        known = Known(frozenset())
        if any(arabic.is_arabic(word) for word in words):
            lexicon = arabic.lexicon() if self._lexicon is None else self._lexicon
            known = Known(lexicon, words if self._rule_words else frozenset())
        self._patterns, self._keys = [], {}
        for pattern_id, canonical in enumerate(self._canonical):
            pattern = tuple(_word(keys, known) for keys in canonical)
            self._patterns.append(pattern)
            for key, anchor in _keys(pattern_id, pattern):
                self._keys.setdefault(key, []).append(anchor)

    def build(self) -> ahocorasick.Automaton:
        """The automaton of the patterns added so far (built once, again after an add)."""
        if self._automaton is None:
            self._spell()
            automaton = ahocorasick.Automaton()
            for key, anchors in self._keys.items():
                if sum(anchor.rest == REST for anchor in anchors) >= CROWD:
                    automaton.add_word(key, _Crowd.of(anchors, self._patterns))
                else:
                    automaton.add_word(key, tuple(anchors))
            if self._keys:
                automaton.make_automaton()
            self._automaton = automaton
        return self._automaton

    def find(self, field: FieldText) -> dict[int, list[tuple[int, int]]]:
        """Every ``pattern id → [(start, end), …]`` in ``field.spaced`` (positions of its first
        word's start and last word's end), in the order the automaton reports them."""
        automaton = self.build()
        found: dict[int, list[tuple[int, int]]] = {}
        if not self._keys:
            return found
        spaced, marks = field.spaced, field.marks
        for last, anchors in automaton.iter(spaced):
            if type(anchors) is _Crowd:
                anchors = anchors.candidates(spaced, last)
            for anchor in anchors:
                pattern, length, phrase, rest = anchor[:4]
                start = last - length + 2  # after the key's leading space
                if phrase and "|" in marks[start:last]:
                    continue  # a phrase break (a comma, a full stop) between its words
                if rest == COMPLETE:
                    end = last
                elif rest == WORD_END:
                    end = spaced.find(" ", last)
                else:
                    end = self._rest(field, anchor, start, last)
                    if end < 0:
                        continue
                if pattern in found:
                    found[pattern].append((start, end))
                else:
                    found[pattern] = [(start, end)]
        return found

    def _rest(self, field: FieldText, anchor: _Anchor, start: int, last: int) -> int:
        """The end of the pattern begun by ``anchor`` at ``start``, or -1 if the words after
        the key (``last`` is its last character) do not finish it."""
        spaced, marks = field.spaced, field.marks
        pattern = self._patterns[anchor.pattern]
        if anchor.partial:  # the key ends inside a wildcard word: back to its start
            at = spaced.rfind(" ", start - 1, last + 1) + 1
        else:
            at = last + 1
        end, size = -1, len(spaced)
        for index in range(anchor.words, len(pattern)):
            if at >= size:
                return -1
            if index and at != start:  # one joining gap character since the previous word
                gap = at - 1
                if spaced[gap] != " " or marks[gap] != " " or spaced[at] == " ":
                    return -1
            end = spaced.find(" ", at)
            if end <= at or not pattern[index].matches(spaced[at:end]):
                return -1
            at = end + 1
        return end


def _word(keys: tuple[str, ...], known: Known) -> _Word:
    if keys[0].endswith(WILDCARD):
        return _Word(forms=prefix_forms(keys[0][:-1]))
    spelt = {
        s
        for key in keys
        for s in (arabic.spellings(key, known) if arabic.is_arabic(key) else spellings(key))
    }
    return _Word(spellings=frozenset(v for s in spelt for v in _with_ligatures(s)))


def _keys(pattern_id: int, pattern: tuple[_Word, ...]) -> Iterator[tuple[str, _Anchor]]:
    """The automaton keys of a pattern: every spelling of its longest literal beginning that
    has at most MAX_SPELLINGS, then the prefixes of a wildcard word that follows."""
    literal: list[list[str]] = []
    count = 1
    for word in pattern:
        if word.forms or (literal and count * len(word.spellings) > MAX_SPELLINGS):
            break
        literal.append(sorted(word.spellings))
        count *= len(word.spellings)
    covered = len(literal)
    heads = [" " + " ".join(words) for words in itertools.product(*literal)]
    if covered < len(pattern) and pattern[covered].forms:
        forms = pattern[covered].forms
        variants = {v for form in forms for v in prefix_spellings(form)}
        # the shortest beginnings only: a word starting with both would be found twice
        shortest = {v for v in variants if not any(v != w and v.startswith(w) for w in variants)}
        last = covered == len(pattern) - 1
        for variant in sorted(shortest):
            # a word starting with a form is the wildcard's; with another spelling, maybe
            rest = WORD_END if last and variant in forms else REST
            prefixes = list(_with_ligatures(variant))
            if variant[-1] in "oa":  # mano*: manœuvre, where the o is half of the œ
                ligature = OE if variant[-1] == "o" else AE
                prefixes += [p + ligature for p in _with_ligatures(variant[:-1])]
            for prefix in prefixes:
                for head in heads:
                    key = f"{head} {prefix}" if covered else f" {prefix}"
                    yield key, _Anchor(pattern_id, len(key), covered > 0, rest, covered, True)
        return
    rest = COMPLETE if covered == len(pattern) else REST
    for head in heads:
        yield head + " ", _Anchor(pattern_id, len(head) + 1, covered > 1, rest, covered, False)
