"""Finding many terms in a tokenised text at once, the spans they cover, and unusable terms.

Terms are word sequences (see :mod:`monitor.rules.text`). A :class:`TermIndex` stores them in
a trie of word keys, so a text is scanned once whatever the number of terms: from each word,
the walk follows the next words only as far as some term continues. A word with two keys
(``parties``: ``partie`` and ``party``) is a fork in the walk; a term word with two keys is
stored along both paths under one term id.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

from monitor.rules.text import ELISIONS, Tokens, term_words, tokenize

# Words that stand for almost any text on their own: elisions and single letters.
_WEAK = frozenset(ELISIONS)


class _Node:
    """One word key of a trie of terms: what may follow it, and the terms that end here."""

    __slots__ = ("next", "term_ids")

    def __init__(self) -> None:
        self.next: dict[str, _Node] = {}
        self.term_ids: tuple[int, ...] = ()


class TermIndex:
    """Distinct terms, each with a small integer id; equal word sequences share one id."""

    def __init__(self) -> None:
        self._root = _Node()
        self._ids: dict[tuple[tuple[str, ...], ...], int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, words: Sequence[Sequence[str]]) -> int:
        """The id of the term made of ``words`` (non-empty; each word as its one or two keys),
        adding it if it is new."""
        if not words or not all(words):
            raise ValueError("a term needs at least one word, each with a key")
        canonical = tuple(tuple(keys) for keys in words)
        term_id = self._ids.get(canonical)
        if term_id is not None:
            return term_id
        term_id = self._ids[canonical] = len(self._ids)
        for path in itertools.product(*canonical):
            node = self._root
            for key in path:
                node = node.next.setdefault(key, _Node())
            if term_id not in node.term_ids:
                node.term_ids += (term_id,)
        return term_id

    def occurrences(self, tokens: Tokens) -> Iterator[tuple[int, int, int]]:
        """Every ``(term id, first word index, word count)`` where a term occurs in ``tokens``:
        the same words in order, each joined to the previous one (spaces, hyphens, elision)."""
        words, joined, alternates = tokens.words, tokens.joined, tokens.alternates
        count = len(words)
        root = self._root
        for first, word in enumerate(words):
            if first in alternates:
                yield from self._fork(tokens, first, first, [root])
                continue
            node = root.next.get(word)  # the usual case: one key per word, one path
            at = first
            while node is not None:
                for term_id in node.term_ids:
                    yield term_id, first, at - first + 1
                at += 1
                if at == count or not joined[at] or not node.next:
                    break
                if at in alternates:
                    yield from self._fork(tokens, first, at, [node])
                    break
                node = node.next.get(words[at])

    @staticmethod
    def _fork(
        tokens: Tokens, first: int, at: int, frontier: list[_Node]
    ) -> Iterator[tuple[int, int, int]]:
        """The rest of the walk from ``first`` once it reaches ``at``, a word with two keys:
        every node of ``frontier`` follows both keys, and so on while words are joined."""
        words, joined, alternates = tokens.words, tokens.joined, tokens.alternates
        while True:
            alternate = alternates.get(at)
            keys = (words[at],) if alternate is None else (words[at], alternate)
            reached = [n for node in frontier for key in keys if (n := node.next.get(key))]
            for term_id in dict.fromkeys(i for node in reached for i in node.term_ids):
                yield term_id, first, at - first + 1
            at += 1
            frontier = [node for node in reached if node.next]
            if not frontier or at == len(words) or not joined[at]:
                return

    def found(self, tokens: Tokens) -> set[int]:
        """The ids of the terms that occur in ``tokens``."""
        return {term_id for term_id, _, _ in self.occurrences(tokens)}


def term_problem(term: str) -> str | None:
    """Why ``term`` cannot be used as a rule term, or ``None`` when it can.

    A term needs a letter or a digit, and something besides single letters and elisions:
    ``C++`` is the word ``c``, which every ``c'est`` contains.
    """
    words = term_words(term)
    if not words:
        return f"term {term!r} has no letter or digit, so it can never match"
    keys = [keys[0] for keys in words]
    if all(key in _WEAK or (len(key) == 1 and key.isalpha()) for key in keys):
        return (
            f"term {term!r} is only {' '.join(keys)!r}: single letters and elisions (l', d', "
            "qu'…) occur in almost every text, and symbols such as + or # are not matched"
        )
    return None


@lru_cache(maxsize=256)
def _index_of(terms: tuple[str, ...]) -> TermIndex:
    index = TermIndex()
    for term in terms:
        if term_problem(term) is None:
            index.add(term_words(term))
    return index


def find_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of ``text`` where any of ``terms`` matches, with the
    matching semantics of rules; sorted, overlapping or touching spans merged (for highlighting).
    Terms a rule could not use (:func:`term_problem`) are ignored.
    """
    index = _index_of(tuple(terms))
    if not len(index):
        return []
    tokens = tokenize(text)
    spans = sorted(
        (tokens.starts[first], tokens.ends[first + count - 1])
        for _, first, count in index.occurrences(tokens)
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
