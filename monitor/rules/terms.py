"""Finding many terms in a tokenised text at once, and the spans they cover.

Terms are word sequences (see :mod:`monitor.rules.text`). A :class:`TermIndex` stores them in
a trie of words, so a text is scanned once whatever the number of terms: from each word, the
walk follows the next words only as far as some term continues.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from monitor.rules.text import Tokens, term_words, tokenize


class _Node:
    """One word of a trie of terms: what may follow it, and the term that ends here if any."""

    __slots__ = ("next", "term_id")

    def __init__(self) -> None:
        self.next: dict[str, _Node] = {}
        self.term_id: int | None = None


class TermIndex:
    """Distinct terms, each with a small integer id; equal word sequences share one id."""

    def __init__(self) -> None:
        self._root = _Node()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, words: tuple[str, ...]) -> int:
        """The id of the term made of ``words`` (non-empty), adding it if it is new."""
        if not words:
            raise ValueError("a term needs at least one word")
        node = self._root
        for word in words:
            node = node.next.setdefault(word, _Node())
        if node.term_id is None:
            node.term_id = self._count
            self._count += 1
        return node.term_id

    def occurrences(self, tokens: Tokens) -> Iterator[tuple[int, int, int]]:
        """Every ``(term id, first word index, word count)`` where a term occurs in ``tokens``:
        the same words in order, each joined to the previous one (spaces, hyphens, elision)."""
        words, joined = tokens.words, tokens.joined
        count = len(words)
        roots = self._root.next
        for first, word in enumerate(words):
            node = roots.get(word)
            at = first
            while node is not None:
                if node.term_id is not None:
                    yield node.term_id, first, at - first + 1
                at += 1
                if at == count or not joined[at] or not node.next:
                    break
                node = node.next.get(words[at])

    def found(self, tokens: Tokens) -> set[int]:
        """The ids of the terms that occur in ``tokens``."""
        return {term_id for term_id, _, _ in self.occurrences(tokens)}


@lru_cache(maxsize=256)
def _index_of(terms: tuple[str, ...]) -> TermIndex:
    index = TermIndex()
    for term in terms:
        words = term_words(term)
        if words:
            index.add(words)
    return index


def find_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of ``text`` where any of ``terms`` matches, with the
    matching semantics of rules; sorted, overlapping or touching spans merged (for highlighting).
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
