"""Regular-expression terms, ``/pattern/flags``: the last resort of the rule language.

They run on RE2 (google-re2), whose matching time is linear in the text whatever the pattern:
a pattern that would backtrack catastrophically in Python's ``re`` (``(a+)+$``) cannot hang
the daemon. RE2 refuses what it cannot run in linear time (back-references, look-around), and
the configuration reports that at load time. RE2's ``\\b`` and ``\\w`` are ASCII only: write
``\\pL`` for a letter of any script (``/\\pL*ition/``).

A regular expression sees the plain text of a field as it is, not folded: ``/IA/`` is case
sensitive, ``/ia/i`` is not, and accents count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import re2  # google-re2 ships no type information: _Pattern says what is used


class _Found(Protocol):
    def span(self) -> tuple[int, int]: ...


class _Pattern(Protocol):
    def search(self, text: str) -> _Found | None: ...

    def finditer(self, text: str) -> Iterator[_Found]: ...


FLAGS = "ims"  # i: ignore case, m: ^ and $ at line ends, s: . matches a line break

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would write its own copy of every error to standard error
_OPTIONS.max_mem = 8 << 20  # a compiled program this large is refused ("pattern too large")


def is_regex(term: str) -> bool:
    """Whether ``term`` is written as ``/pattern/flags``."""
    return term.startswith("/") and term.rfind("/") > 0


def _source(term: str) -> str:
    """The RE2 source of ``/pattern/flags``, flags made inline; ValueError if it is wrong."""
    end = term.rfind("/")
    pattern, flags = term[1:end], term[end + 1 :]
    if not pattern:
        raise ValueError(f"regular expression {term!r} is empty")
    unknown = sorted(set(flags) - set(FLAGS))
    if unknown or len(set(flags)) != len(flags):
        raise ValueError(
            f"regular expression {term!r}: unknown or repeated flag {''.join(unknown) or flags!r}"
            f" (known: i ignore case, m multi-line, s dot matches all)"
        )
    return f"(?{flags}){pattern}" if flags else pattern


def compile_regex(term: str) -> _Pattern:
    """The compiled ``/pattern/flags``; ValueError naming the term if RE2 refuses it."""
    source = _source(term)
    try:
        compiled: _Pattern = re2.compile(source, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValueError(
            f"regular expression {term!r} cannot be used: {reason} (RE2 syntax: no "
            "back-references or look-around, which could take exponential time)"
        ) from exc
    if compiled.search("") is not None:
        raise ValueError(f"regular expression {term!r} matches the empty text, so every item")
    return compiled


SET_MEMORY = 64 << 20  # per RE2 set; more patterns than one set can hold get more sets


class RegexSet:
    """Several regular expressions: one pass per set tells which of them occur in a text, and
    only those are searched again for their positions. Patterns go into as few RE2 sets as
    their compiled size allows (a set that cannot hold them all is split)."""

    def __init__(self, terms: Sequence[str]) -> None:
        self._compiled = [compile_regex(term) for term in terms]
        self._sets: list[tuple[int, Any]] = []  # (position of its first pattern, set)
        sources = [_source(term) for term in terms]
        self._build(sources, 0)
        # Without anchors, a pattern found in a field is found in the fields joined by line
        # breaks, so one pass over the joined fields tells which patterns to look for.
        self._joinable = not any(_ANCHORS.search(source) for source in sources)

    def _build(self, sources: list[str], offset: int) -> None:
        options = re2.Options()
        options.log_errors = False
        options.max_mem = SET_MEMORY
        matcher = re2.Set.SearchSet(options)
        for source in sources:
            matcher.Add(source)
        try:
            matcher.Compile()
        except re2.error:
            if len(sources) == 1:  # compiled alone by compile_regex, so this cannot happen
                raise
            half = len(sources) // 2
            self._build(sources[:half], offset)
            self._build(sources[half:], offset + half)
            return
        self._sets.append((offset, matcher))

    def __len__(self) -> int:
        return len(self._compiled)

    def candidates(self, texts: Sequence[str]) -> list[int]:
        """The patterns that may occur in one of ``texts`` (all those that do, and perhaps
        some across two of them), by position in the set."""
        joined = ["\n".join(texts)] if self._joinable else texts
        found: set[int] = set()
        for text in joined:
            for offset, matcher in self._sets:
                found.update(offset + k for k in matcher.Match(text) or ())
        return sorted(found)

    def find(self, text: str, candidates: Sequence[int]) -> list[tuple[int, int, int]]:
        """``(position in the set, start, end)`` of every non-empty match in ``text`` of the
        patterns ``candidates``."""
        found: list[tuple[int, int, int]] = []
        for index in candidates:
            for match in self._compiled[index].finditer(text):
                start, end = match.span()
                if end > start:
                    found.append((index, start, end))
        return found


_ANCHORS = re.compile(r"[$^]|\\[AzZ]")  # ^ $ \A \z: where the text starts or ends
