"""What a configured term says: words (some ending in ``*``), exact-case words, or a regex.

- ``centres d'appels``: words matched with the §3.3 normalisation (:mod:`monitor.terms.text`);
- ``centre*``, ``externalis*``: a ``*`` ending a word matches any word starting with those
  letters (at least three), folded like the rest: ``centre*`` matches ``Centres``, ``centers``;
- ``{term: "AI", case: sensitive}``: the words must also be written with exactly those letters,
  capitals and accents (a plural ``AIs`` counts), for acronyms that meet a common word once
  folded (``AI`` and French ``ai``);
- ``/pattern/flags``: a regular expression (:mod:`monitor.terms.regex`).
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

from monitor.terms import arabic
from monitor.terms.regex import compile_regex, is_regex
from monitor.terms.text import ELISIONS, tokenize
from monitor.terms.words import spelling

MIN_PREFIX = 3  # letters before a *: ``ia*`` would match ``iam``, ``iata``, ``ian``…
WILDCARD = "*"

# Words that stand for almost any text on their own: elisions and single letters.
_WEAK = frozenset(ELISIONS)


@dataclass(frozen=True, slots=True)
class WordTerm:
    """A term made of words. Each word is its keys: one or two keys of a whole word, or the
    single key ``prefix*`` of a wildcard word."""

    text: str  # as configured
    words: tuple[tuple[str, ...], ...]
    prefixes: tuple[str, ...]  # the folded prefix of each wildcard word
    exact: tuple[str, ...] | None = None  # case-sensitive: each word as written
    # where punctuation that breaks a phrase splits the term (Dr. Oetker, IA, emploi): the
    # index of each word it comes before; the text may have punctuation there too
    breaks: tuple[int, ...] = ()

    def parts(self) -> list[tuple[tuple[str, ...], ...]]:
        """The words of each phrase the breaks leave (all the words when there is none)."""
        cuts = [0, *self.breaks, len(self.words)]
        return [self.words[a:b] for a, b in itertools.pairwise(cuts)]

    def verifies(self, originals: list[str]) -> bool:
        """Whether the words found (as written in the text) satisfy the term's exact case."""
        if self.exact is None:
            return True
        for original, wanted, keys in zip(originals, self.exact, self.words, strict=True):
            written = exact_form(original)
            if keys[0].endswith(WILDCARD):
                if not written.startswith(wanted):
                    return False
            elif written != wanted and written != wanted + "s":  # AIs: a plural of AI
                return False
        return True


@dataclass(frozen=True, slots=True)
class RegexTerm:
    text: str  # ``/pattern/flags`` as configured


Term = WordTerm | RegexTerm


def parse_term(text: str, *, case_sensitive: bool = False) -> Term:
    """The term ``text`` means; ValueError with a message for the configuration if unusable."""
    if not text.strip():
        raise ValueError("a term cannot be empty")
    if is_regex(text):
        if case_sensitive:
            raise ValueError(f"{text!r}: 'case' applies to words; a regex is case sensitive "
                             "unless it has the i flag")  # fmt: skip
        compile_regex(text)
        return RegexTerm(text)
    tokens = tokenize(text, term=True)
    if not tokens.words:
        raise ValueError(f"term {text!r} has no letter or digit, so it can never match")
    words: list[tuple[str, ...]] = []
    prefixes: list[str] = []
    wildcards = 0
    for index, key in enumerate(tokens.words):
        end = tokens.ends[index]
        if text.startswith(WILDCARD, end):
            if text[end + 1 : end + 2].isalnum():  # cen*tre: not at the end of a word
                break
            wildcards += 1
            prefix = tokens.raw[index]
            if len(prefix) < MIN_PREFIX:
                raise ValueError(
                    f"term {text!r}: {prefix + WILDCARD!r} is too short, a wildcard needs at "
                    f"least {MIN_PREFIX} letters before the *"
                )
            words.append((prefix + WILDCARD,))
            prefixes.append(prefix)
        else:
            alternate = tokens.alternates.get(index)
            words.append((key,) if alternate is None else (key, alternate))
    if text.count(WILDCARD) != wildcards:
        raise ValueError(f"term {text!r}: a * may only end a word, as in centre* or externalis*")
    if not prefixes and all(k[0] in _WEAK or (len(k[0]) == 1 and k[0].isalpha()) for k in words):
        keys = " ".join(k[0] for k in words)
        raise ValueError(
            f"term {text!r} is only {keys!r}: single letters and elisions (l', d', qu'…) occur "
            "in almost every text, and symbols such as + or # are not matched"
        )
    exact = None
    if case_sensitive:
        exact = tuple(
            text[start:end] for start, end in zip(tokens.starts, tokens.ends, strict=True)
        )
    breaks = tuple(index for index in range(1, len(words)) if not tokens.joined[index])
    return WordTerm(text, tuple(words), tuple(prefixes), exact, breaks)


_NOT_LETTERS = str.maketrans(dict.fromkeys(".\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def exact_form(word: str) -> str:
    """A word as written, for exact-case comparison: compatibility characters made plain
    (full-width letters, ligatures) in NFC, without the dots of an acronym (A.I.) or invisible
    characters (a soft hyphen); capitals and accents stay."""
    return unicodedata.normalize("NFKC", word).translate(_NOT_LETTERS)


def term_problem(text: str, *, case_sensitive: bool = False) -> str | None:
    """Why ``text`` cannot be used as a rule term, or ``None`` when it can."""
    try:
        parse_term(text, case_sensitive=case_sensitive)
    except ValueError as exc:
        return str(exc)
    return None


def prefix_forms(prefix: str) -> tuple[str, ...]:
    """The folded prefixes a wildcard word matches: as written, and in its key spelling
    (``centre*`` also matches ``center``, ``centers``; ``الاتصال*`` also ``اتصالات``)."""
    if arabic.is_arabic(prefix):
        return tuple(dict.fromkeys((prefix, arabic.key(prefix))))
    return tuple(dict.fromkeys((prefix, spelling(prefix))))
