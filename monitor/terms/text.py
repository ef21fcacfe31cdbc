"""Text normalisation for matching (DESIGN §3.3): fold, split into words, key each word.

A text becomes a sequence of words, each remembering where it sits in the original text:

- **fold** each character: casefold, compatibility decomposition (NFKD), combining marks
  dropped (so precomposed and decomposed accents, ``ﬁ`` and ``ﬁ``, full-width letters all
  agree), ``œ``/``æ`` spelled out, every apostrophe form (straight, typographic right and left
  quotes, modifier letter, grave and acute accents…) made ``'`` and every hyphen form ``-``;
- **split** into words at every character that is not a letter or a digit. Apostrophes split
  too, which splits off every French elision (``l'`` ``d'`` ``qu'`` ``jusqu'``…): ``l'IA`` is the
  two words ``l`` ``ia`` whatever the apostrophe, in the text and in the term alike;
- **join** a run of single capitals each followed by a dot into one word (``I.A.`` is ``IA``,
  ``U.S.`` is ``US``); not lower-case abbreviations (``i.e.``) nor spaced initials
  (``J. A. Smith``), which stay single letters;
- **key** each word so singular and plural and spelling variants agree (see
  :mod:`monitor.terms.words`); an acronym plural written as capitals and a lower-case ``s``
  (``IAs``, ``BPOs``) is keyed as its singular, which only the original case can tell.

Each word also records whether it is *joined* to the previous one: only white space (any kind,
line breaks included), hyphens, apostrophes and ``&`` lie between them. A phrase matches only
across joined words, so ``call-center`` ~ ``call center`` and ``Procter & Gamble`` ~ ``Procter
&Gamble``, but ``call. Center`` is not the phrase.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from monitor.terms import arabic
from monitor.terms.words import keys

# The elisions French writing glues to the next word; splitting at every apostrophe covers them.
ELISIONS: tuple[str, ...] = (
    "l", "d", "qu", "s", "n", "j", "m", "t", "c", "jusqu", "lorsqu", "puisqu",
)  # fmt: skip

APOSTROPHES = frozenset("'\u2019\u02bc\u2018`\u00b4\u02bb\u2032\u201b\uff07")
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2212\u2043\ufe63\uff0d")
_WORD_BREAKS = frozenset("\u200b")  # zero-width space: an invisible word boundary
# soft hyphen, joiners, and the bidirectional marks (LRM, RLM, Arabic letter mark) that Arabic
# web text strews between words: not boundaries
_INVISIBLE = frozenset("\u00ad\u200c\u200d\u2060\ufeff\u200e\u200f\u061c")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"} | dict.fromkeys(APOSTROPHES, "'"))
_ASCII_FOLD = str.maketrans({"`": "'"})

_WORD = re.compile(r"[^\W_]+")
# A run of single letters each followed by a dot (I.A., U.S., U.S.A), matched from a word start.
_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_](?![^\W_])\.?")
# a folded gap that keeps a phrase together (& of names: AT&T, Procter & Gamble)
JOINING_GAP = re.compile(r"[\s\-'_&]*")


def fold_char(char: str) -> str:
    """The folded form of one character: zero, one or several characters."""
    if char in APOSTROPHES:
        return "'"
    if char in _HYPHENS:
        return "-"
    if char in _WORD_BREAKS:
        return " "
    if char in _INVISIBLE:
        return ""
    if not char.isascii() and unicodedata.category(char) == "Nd":
        return str(unicodedata.decimal(char))  # Arabic-Indic, Persian… digits: 0-9
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    # Compatibility forms may decompose to upper case (U+210C → H) or an apostrophe (U+0149).
    return kept.casefold().translate(_LIGATURES).translate(arabic.FOLD)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each new character on first sight (a bounded set)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold_char(chr(code))
        return folded


_TABLE = _FoldTable()
_ONE_FOR_ONE: set[str] = set()  # characters seen that fold to exactly one character


def fold(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, for each of its characters, the index of the original character it
    comes from (plus a final ``len(text)``); ``None`` when the two line up one to one."""
    if text.isascii():
        return text.lower().translate(_ASCII_FOLD), None
    table = _TABLE
    chars = set(text)
    if not chars <= _ONE_FOR_ONE:
        _ONE_FOR_ONE.update(c for c in chars - _ONE_FOR_ONE if len(table[ord(c)]) == 1)
    if chars <= _ONE_FOR_ONE:
        return text.translate(table), None  # the usual case: one character for one
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = table[ord(char)]
        pieces.append(folded)
        offsets.extend([index] * len(folded))
    offsets.append(len(text))
    return "".join(pieces), offsets


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of one text, with their character spans in the original text."""

    words: list[str]  # keys (see monitor.terms.words)
    raw: list[str]  # the folded words before keying, for wildcard prefixes
    starts: list[int]
    ends: list[int]
    joined: list[bool]  # joined[i]: only spaces, hyphens, apostrophes, & since word i - 1
    alternates: dict[int, str]  # a second key of word i, for the few words that have one


def _original(text: str, offsets: list[int] | None, start: int, end: int) -> str:
    """The characters of ``text`` that the folded span ``start:end`` comes from."""
    return text[start:end] if offsets is None else text[offsets[start] : offsets[end]]


# What only the word-by-word path below handles: a single letter followed by a dot and a letter
# (maybe a dotted acronym, I.A.; the careful path decides). A dot before a letter is rare
# enough to look for first.
_DOT_LETTER = re.compile(r"\.[^\W\d_]")
_DOTTED_HINT = re.compile(r"(?<![^\W_])[^\W\d_]\.[^\W\d_]")
_SPLIT = re.compile(r"([^\W_]+)")


def _dotted(folded: str) -> bool:
    return _DOT_LETTER.search(folded) is not None and _DOTTED_HINT.search(folded) is not None


@lru_cache(maxsize=4096)
def _joins(gap: str) -> bool:
    return JOINING_GAP.fullmatch(gap) is not None


def _plain_tokens(text: str, folded: str) -> Tokens | None:
    """The words of a text folded one character for one, without dotted acronyms: the common
    case, done with whole-text operations (split, map) rather than word by word; None when
    the text has an acronym plural (IAs), which the careful path handles."""
    parts = _SPLIT.split(folded)  # gap, word, gap, word, …, gap
    raw = parts[1::2]
    bounds = list(itertools.accumulate(map(len, parts)))
    starts, ends = bounds[0:-1:2], bounds[1::2]
    for index in [i for i, word in enumerate(raw) if word[-1] == "s" and len(word) >= 3]:
        original = text[starts[index] : ends[index]]
        if original[0].isupper() and original[:-1].isupper() and original.isalpha():
            return None
    pairs = list(map(keys, raw))
    return Tokens(
        words=[key for key, _ in pairs],
        raw=raw,
        starts=starts,
        ends=ends,
        joined=[False, *map(_joins, parts[2:-1:2])] if raw else [],
        alternates={i: other for i, (_, other) in enumerate(pairs) if other is not None},
    )


def tokenize(text: str, *, term: bool = False) -> Tokens:
    """Split ``text`` into words and their keys (see the module docstring). A ``term`` joins
    dotted letters into one word whatever their case (``u.s.`` is ``US``); a text only when
    they are capitals, since ``i.e.``, ``e.g.``, ``a.m.`` are abbreviations, not acronyms."""
    folded, offsets = fold(text)
    if not term and offsets is None and not _dotted(folded):
        plain = _plain_tokens(text, folded)
        if plain is not None:
            return plain
    return _careful_tokens(text, folded, offsets, term)


def _careful_tokens(text: str, folded: str, offsets: list[int] | None, term: bool) -> Tokens:
    """The words of any text, word by word: dotted acronyms, acronym plurals, and spans
    through a fold that changed the text's length."""
    tokens = Tokens([], [], [], [], [], {})
    words, raw, starts, ends, joined, alternates = (
        tokens.words, tokens.raw, tokens.starts, tokens.ends, tokens.joined, tokens.alternates,
    )  # fmt: skip
    previous_end = -1
    skip_until = 0  # the end of a dotted acronym: the single letters it is made of are done
    for found in _WORD.finditer(folded):
        start, end = found.span()
        if start < skip_until:
            continue
        word = found.group()
        if end - start == 1 and folded.startswith(".", end):
            dotted = _DOTTED.match(folded, start)
            if dotted is not None and (term or _original(text, offsets, *dotted.span()).isupper()):
                end = skip_until = dotted.end()
                word = dotted.group().replace(".", "")  # I.A., U.S.: one word
        elif (
            word[-1] == "s"
            and len(word) >= 3
            and text[start if offsets is None else offsets[start]].isupper()
        ):
            original = _original(text, offsets, start, end)
            if original[:-1].isupper() and original[-1] == "s" and word.isalpha():
                word = word[:-1]  # IAs, BPOs: an acronym plural (not LES, Les, bus)
        key, alternate = keys(word)
        if alternate is not None:
            alternates[len(words)] = alternate
        words.append(key)
        raw.append(word)
        joined.append(
            previous_end >= 0 and JOINING_GAP.fullmatch(folded, previous_end, start) is not None
        )
        previous_end = end
        if offsets is None:
            starts.append(start)
            ends.append(end)
        else:
            # The end is where the next kept character starts, so dropped combining marks
            # that follow the word stay inside its span.
            starts.append(offsets[start])
            ends.append(offsets[end])
    return tokens
