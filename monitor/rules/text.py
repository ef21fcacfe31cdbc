"""Text normalisation for matching (DESIGN §3.3): fold, split into words, stem.

A text becomes a sequence of words, each remembering where it sits in the original text:

- **fold** each character: casefold, compatibility decomposition (NFKD), combining marks
  dropped (so precomposed and decomposed accents, ``ﬁ`` and ``ﬁ``, full-width letters all
  agree), ``œ``/``æ`` spelled out, every apostrophe form (straight, typographic right and left
  quotes, modifier letter, grave and acute accents…) made ``'`` and every hyphen form ``-``;
- **split** into words at every character that is not a letter or a digit. Apostrophes split
  too, which splits off every French elision (``l'`` ``d'`` ``qu'`` ``jusqu'``…): ``l'IA`` is the
  two words ``l`` ``ia`` whatever the apostrophe, in the text and in the term alike;
- **stem** each word with one small rule so singular and plural agree (see :func:`stem`).

Each word also records whether it is *joined* to the previous one: only white space (any kind,
line breaks included), hyphens and apostrophes lie between them. A phrase matches only across
joined words, so ``call-center`` ~ ``call center`` but ``call. Center`` is not the phrase.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# The elisions French writing glues to the next word; splitting at every apostrophe covers them.
ELISIONS: tuple[str, ...] = (
    "l", "d", "qu", "s", "n", "j", "m", "t", "c", "jusqu", "lorsqu", "puisqu",
)  # fmt: skip

_APOSTROPHES = frozenset("'\u2019\u02bc\u2018`\u00b4\u02bb\u2032\u201b\uff07")
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2212\u2043\ufe63\uff0d")
_WORD_BREAKS = frozenset("\u200b")  # zero-width space: an invisible word boundary
_INVISIBLE = frozenset("\u00ad\u200c\u200d\u2060\ufeff")  # soft hyphen, joiners: not boundaries
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"} | dict.fromkeys(_APOSTROPHES, "'"))
_ASCII_FOLD = str.maketrans({"`": "'"})

_WORD = re.compile(r"[^\W_]+")
_JOINING_GAP = re.compile(r"[\s\-'_]*")


def fold_char(char: str) -> str:
    """The folded form of one character: zero, one or several characters."""
    if char in _APOSTROPHES:
        return "'"
    if char in _HYPHENS:
        return "-"
    if char in _WORD_BREAKS:
        return " "
    if char in _INVISIBLE:
        return ""
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    kept = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    # Compatibility forms may decompose to upper case (U+210C → H) or an apostrophe (U+0149).
    return kept.casefold().translate(_LIGATURES)


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each new character on first sight (a bounded set)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold_char(chr(code))
        return folded


_TABLE = _FoldTable()


def fold(text: str) -> tuple[str, list[int] | None]:
    """The folded text and, for each of its characters, the index of the original character it
    comes from (plus a final ``len(text)``); ``None`` when the two line up one to one."""
    if text.isascii():
        return text.lower().translate(_ASCII_FOLD), None
    table = _TABLE
    if all(len(table[ord(char)]) == 1 for char in set(text)):
        return text.translate(table), None  # the usual case: one character for one
    pieces: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(text):
        folded = table[ord(char)]
        pieces.append(folded)
        offsets.extend([index] * len(folded))
    offsets.append(len(text))
    return "".join(pieces), offsets


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One rule for French and English number, applied alike to terms and texts.

    Words of four letters or more lose one final ``s`` or ``x`` (``centres`` → ``centre``,
    ``jeux`` → ``jeu``); then a final ``al`` becomes ``au`` so ``journal``, ``journaux`` (and
    ``noyau``/``noyaux``) meet at ``journau``; and a final ``ie`` becomes ``y`` so English
    ``companies`` meets ``company`` (French ``énergie`` and English ``energy`` meet too).
    Words with digits and short words (``IA``, ``les``, ``bus``) are left alone.
    Not covered: ``-ail``/``-aux`` (``travail``/``travaux``), English ``-es`` (``boxes``).
    """
    if len(word) <= 3 or not word.isalpha():
        return word
    if word[-1] in "sx":
        word = word[:-1]
    if len(word) > 3:
        if word.endswith("al"):
            word = word[:-2] + "au"
        elif word.endswith("ie") and len(word) > 4:
            word = word[:-2] + "y"
    return word


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of one text, with their character spans in the original text."""

    words: list[str]  # folded and stemmed
    starts: list[int]
    ends: list[int]
    joined: list[bool]  # joined[i]: only spaces, hyphens or apostrophes since word i - 1


def tokenize(text: str) -> Tokens:
    """Split ``text`` into folded, stemmed words (see the module docstring)."""
    folded, offsets = fold(text)
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    joined: list[bool] = []
    previous_end = -1
    for found in _WORD.finditer(folded):
        start, end = found.span()
        words.append(stem(found.group()))
        joined.append(
            previous_end >= 0 and _JOINING_GAP.fullmatch(folded, previous_end, start) is not None
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
    return Tokens(words, starts, ends, joined)


def term_words(term: str) -> tuple[str, ...]:
    """The words a configured term is made of, normalised like any text."""
    return tuple(tokenize(term).words)
