"""The oracle of the matcher's term search: word patterns found by walking a trie of word keys
over a tokenised text, word by word. The matcher once worked this way; it now looks for the
spellings of every pattern in one pass (monitor.rules.automaton), and the tests check that the
two find exactly the same occurrences.

Patterns are word sequences (see :mod:`monitor.terms.text`). A :class:`TermIndex` stores them in
a trie of word keys, so a text is scanned once whatever the number of terms: from each word,
the walk follows the next words only as far as some pattern continues. A word with two keys
(``parties``: ``partie`` and ``party``) is a fork in the walk; a pattern word with two keys is
stored along both paths under one pattern id. A wildcard word (``centre*``) is the key
``centre*``, which every text word starting with ``centre`` carries as an extra key.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

from monitor.terms.syntax import MIN_PREFIX, WILDCARD, prefix_forms
from monitor.terms.text import APOSTROPHES, ELISIONS, Tokens, tokenize

_CACHE_SIZE = 200_000  # words whose wildcard keys are remembered


class _Node:
    """One word key of a trie of patterns: what may follow it, and the patterns ending here."""

    __slots__ = ("next", "pattern_ids")

    def __init__(self) -> None:
        self.next: dict[str, _Node] = {}
        self.pattern_ids: tuple[int, ...] = ()


class TermIndex:
    """Distinct word patterns, each with a small integer id; equal sequences share one id."""

    def __init__(self) -> None:
        self._root = _Node()
        self._ids: dict[tuple[tuple[str, ...], ...], int] = {}
        # length → folded prefix → the wildcard keys it stands for (centre* and center* both
        # have the form "center")
        self._prefixes: dict[int, dict[str, tuple[str, ...]]] = {}
        self._wildcard_cache: dict[tuple[str, str, str | None], tuple[str, ...]] = {}
        self._heads: set[str] = set()  # the first MIN_PREFIX letters of every prefix

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
        for keys in canonical:
            if keys[0].endswith(WILDCARD):
                self._wildcard_cache.clear()
                for form in prefix_forms(keys[0][:-1]):
                    self._heads.add(form[:MIN_PREFIX])
                    table = self._prefixes.setdefault(len(form), {})
                    if keys[0] not in table.get(form, ()):
                        table[form] = (*table.get(form, ()), keys[0])
        for path in itertools.product(*canonical):
            node = self._root
            for key in path:
                node = node.next.setdefault(key, _Node())
            if pattern_id not in node.pattern_ids:
                node.pattern_ids += (pattern_id,)
        return pattern_id

    def _extra_keys(self, tokens: Tokens) -> dict[int, tuple[str, ...]]:
        """The keys of each word beside its first: its alternate and its wildcard keys."""
        extra: dict[int, tuple[str, ...]] = {i: (a,) for i, a in tokens.alternates.items()}
        if not self._prefixes:
            return extra
        alternates, wildcards, heads = tokens.alternates, self._wildcards, self._heads
        raws, words = tokens.raw, tokens.words
        # only words whose first letters begin some prefix can carry a wildcard key
        maybe = [i for i, raw in enumerate(raws) if raw[:MIN_PREFIX] in heads]
        maybe += [i for i, key in enumerate(words) if key[:MIN_PREFIX] in heads]
        maybe += [i for i, other in alternates.items() if other[:MIN_PREFIX] in heads]
        for index in sorted(set(maybe)):
            raw, key = raws[index], words[index]
            found = wildcards(raw, key, alternates.get(index))
            if found:
                extra[index] = extra.get(index, ()) + found
        return extra

    def _wildcards(self, raw: str, key: str, alternate: str | None) -> tuple[str, ...]:
        """The wildcard keys a word (its folded form, key and alternate key) carries; cached,
        since a text's words are mostly words seen before."""
        forms = (raw, key, alternate)
        found = self._wildcard_cache.get(forms)
        if found is None:
            keys: dict[str, None] = {}
            for length, table in self._prefixes.items():
                for form in forms:
                    if form is not None and len(form) >= length:
                        keys.update(dict.fromkeys(table.get(form[:length], ())))
            found = tuple(keys)
            if len(self._wildcard_cache) >= _CACHE_SIZE:
                self._wildcard_cache.clear()
            self._wildcard_cache[forms] = found
        return found

    def occurrences(self, tokens: Tokens) -> Iterator[tuple[int, int, int]]:
        """Every ``(pattern id, first word index, word count)`` where a pattern occurs in
        ``tokens``: the same words in order, each joined to the previous one (spaces, hyphens,
        elision)."""
        words, joined = tokens.words, tokens.joined
        extra = self._extra_keys(tokens)
        count = len(words)
        root = self._root
        for first, word in enumerate(words):
            if first in extra:
                yield from self._fork(tokens, extra, first, first, [root])
                continue
            node = root.next.get(word)  # the usual case: one key per word, one path
            at = first
            while node is not None:
                for pattern_id in node.pattern_ids:
                    yield pattern_id, first, at - first + 1
                at += 1
                if at == count or not joined[at] or not node.next:
                    break
                if at in extra:
                    yield from self._fork(tokens, extra, first, at, [node])
                    break
                node = node.next.get(words[at])

    @staticmethod
    def _fork(
        tokens: Tokens,
        extra: dict[int, tuple[str, ...]],
        first: int,
        at: int,
        frontier: list[_Node],
    ) -> Iterator[tuple[int, int, int]]:
        """The rest of the walk from ``first`` once it reaches ``at``, a word with several keys:
        every node of ``frontier`` follows every key, and so on while words are joined."""
        words, joined = tokens.words, tokens.joined
        while True:
            keys = (words[at], *extra.get(at, ()))
            reached = [n for node in frontier for key in keys if (n := node.next.get(key))]
            for pattern_id in dict.fromkeys(i for node in reached for i in node.pattern_ids):
                yield pattern_id, first, at - first + 1
            at += 1
            frontier = [node for node in reached if node.next]
            if not frontier or at == len(words) or not joined[at]:
                return


def word_ranks(text: str, tokens: Tokens) -> list[int]:
    """For each word of ``text`` (and its end), how many words come before it, not counting
    elisions: in "L'IA menace l'emploi", IA and emploi are one word apart, as a reader counts
    (for ``near``)."""
    words, starts, ends, joined = tokens.words, tokens.starts, tokens.ends, tokens.joined
    ranks, rank, last = [], 0, len(words) - 1
    for index, word in enumerate(words):
        ranks.append(rank)
        elided = (
            word in ELISIONS
            and index < last
            and joined[index + 1]
            and any(char in APOSTROPHES for char in text[ends[index] : starts[index + 1]])
        )
        rank += not elided
    ranks.append(rank)
    return ranks


def term_words(term: str) -> tuple[tuple[str, ...], ...]:
    """The words a configured term is made of, each as its key and its alternate key if any,
    normalised like any text."""
    tokens = tokenize(term, term=True)
    alternates = tokens.alternates
    return tuple(
        (key, alternates[index]) if index in alternates else (key,)
        for index, key in enumerate(tokens.words)
    )
