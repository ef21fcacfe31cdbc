# ruff: noqa: RUF002  (the typography it folds is the subject)
"""A field's text as the matcher reads it: folded words, every gap between them made spaces.

The matcher looks for the spellings of every term in one pass over this text (see
:mod:`monitor.rules.automaton`), so it must be cheap to make and must say exactly what
:func:`monitor.terms.text.tokenize` says about the same text. Two strings of equal length:

- ``spaced``: each word folded (§3.3), each character between words a space, with a space
  before the first word and after the last: a word is always ``" word "``;
- ``marks``: the same, except that a gap character that breaks a phrase (a comma, a full stop;
  anything but white space, hyphens, apostrophes, ``_`` and ``&``) is ``|``. A phrase is words one
  space apart in ``spaced`` with no ``|`` between them in ``marks``.

Most texts are made in three C-level steps: encoded as Windows-1252 (which holds French and
English typography: accents, ``œ``, ``’``, ``«``, ``–``), each byte translated through a table
of what §3.3 folds it to, decoded. The text keeps its length, so a position in ``spaced`` is a
position in the text plus one. ``œ``/``æ`` stay one character (the placeholders :data:`OE`,
:data:`AE`; the automaton adds term spellings with them). A run of joining gap characters
(``" – "``) is squeezed to one space, remembering the shift. A text with Arabic letters is
read the same way as Windows-1256, which holds Arabic letters beside the French ones, each byte
made its folded letter (``ة`` → ``ه``). Everything else (letters outside both, dotted acronyms
``I.A.``, acronym plurals ``IAs``, a capital ``Œ``/``Æ``, soft hyphens, tatweel and tashkeel,
letters that fold to two letters or to none) is built from :func:`tokenize`, word by word.
"""

from __future__ import annotations

import codecs
import itertools
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from monitor.terms.text import APOSTROPHES, ELISIONS, JOINING_GAP, fold_char, tokenize
from monitor.terms.words import stem_spellings as _stem_spellings

OE, AE = "\x01", "\x02"  # œ and æ in ``spaced``: one character each, as in the text
_HARD = "\x00"  # a character only the word-by-word path handles
_ENCODING = "cp1252"
_ERRORS = "monitor-rules-fold"
# the words whose key is an elision (jusqu, jusqus…): a proximity does not count them
_ELIDED = frozenset(word for elision in ELISIONS for word in _stem_spellings(elision))
_DROP = "\x03"  # (Windows-1256 path) a character that folds to nothing: tashkeel, tatweel
_RUN = re.compile("  +|\x03+")  # what _squeezed removes: joining gaps but one, dropped characters
# a dropped character between two gaps: its removal would join two gaps (the word-by-word path)
_LONE_DROP = re.compile("[ |]\x03+[ |]")


def plain(word: str) -> str:
    """A word of ``spaced`` with its ligature placeholders spelled out (``œ`` is ``oe``)."""
    return word.replace(OE, "oe").replace(AE, "ae")


def _gap_mark(folded: str) -> str:
    return " " if JOINING_GAP.fullmatch(folded) else "|"


def _gap(folded: str) -> str | None:
    """The mark of a character that folds to ``folded`` if it is a gap character: ``.``
    (a dot, maybe of a dotted acronym), ``|`` (a phrase break) or a space; else None."""
    if not folded or any(c.isalnum() for c in folded):
        return None
    return "." if "." in folded else _gap_mark(folded)


def _mark(char: str) -> str:
    """What ``char`` becomes in ``marks`` on the fast path: a folded letter or digit, a gap
    mark, a ligature placeholder, or :data:`_HARD`."""
    folded = fold_char(char)
    if len(folded) == 1 and folded.isascii() and folded.isalnum():
        return folded
    gap = _gap(folded)
    if gap is not None:
        return "|" if gap == "." else gap
    return {"oe": OE, "ae": AE}.get(folded, _HARD)


def _case(char: str) -> int:
    """The byte of ``char`` in the case sketch that tells where a dotted acronym (``.A``) or an
    acronym plural (``As``) may be."""
    if char in "ŒÆ":
        return ord("L")  # a capital that folds to two letters (Œs is an acronym plural)
    if char.isupper() or (char.isalpha() and not char.islower()):
        return ord("A")  # capitals, and letters without case (ª, Arabic letters)
    if char in "s.":
        return ord(char)
    return ord("a" if char.isalnum() else " ")


def _byte_tables(encoding: str, mark: Callable[[str], int]) -> tuple[bytes, bytes]:
    """The translation of each byte of ``encoding`` into ``marks`` (what ``mark`` makes of its
    character) and into the case sketch (:func:`_case`)."""
    marks, case = bytearray(256), bytearray(256)
    for byte in range(256):
        try:
            char = bytes([byte]).decode(encoding)
        except UnicodeDecodeError:
            marks[byte], case[byte] = ord(_HARD), ord(" ")
            continue
        # byte 0 is what the error handler puts for what it cannot encode
        marks[byte] = mark(char) if byte else ord(_HARD)
        case[byte] = _case(char)
    return bytes(marks), bytes(case)


_MARKS, _CASE = _byte_tables(_ENCODING, lambda char: ord(_mark(char)))


@lru_cache(maxsize=4096)
def _replacement(char: str) -> str:
    """A Windows-1252 (or 1256) stand-in for a character it lacks: the digit it is (``٢``,
    ``۲``, ``２`` are ``2``), a gap character of the same kind (a narrow no-break space, an
    emoji, a dot leader), else the hard marker."""
    folded = fold_char(char)
    if len(folded) == 1 and folded.isascii() and folded.isdigit():
        return folded
    return _gap(folded) or _HARD


def _errors(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chars = error.object[error.start : error.end]
    return "".join(map(_replacement, chars)), error.end


codecs.register_error(_ERRORS, _errors)


def _arabic_mark(char: str) -> int:
    """The mark of a Windows-1256 character: the byte of its folded letter when that is one letter
    (``ة`` → ``ه``), :data:`_DROP` when it folds to nothing (tashkeel, tatweel, soft hyphen,
    joiners), else what :func:`_mark` makes of it."""
    folded = fold_char(char)
    if not folded:
        return ord(_DROP)
    try:
        letter = folded.encode(_ARABIC_ENCODING) if folded.isalnum() else b""
    except UnicodeEncodeError:
        letter = b""
    return letter[0] if len(letter) == 1 else ord(_mark(char))


_ARABIC_ENCODING = "cp1256"
_ARABIC_MARKS, _ARABIC_CASE = _byte_tables(_ARABIC_ENCODING, _arabic_mark)
# Arabic letters (and their supplements): such a text is read as Windows-1256
_LOOK_AHEAD = 80  # characters looked at for Arabic before trying Windows-1252
_OTHER_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


@dataclass(frozen=True, slots=True)
class Words:
    """The words of a field, for proximity and regular expressions: where each one is in
    ``spaced`` and in the text, and its rank as a reader counts (elisions do not count)."""

    starts: list[int]  # in spaced
    ends: list[int]
    text_starts: list[int]  # in the original text
    text_ends: list[int]
    ranks: list[int]  # of each word, and one past the last


class FieldText:
    """One field's text, ready for the automaton; positions map back to the text."""

    __slots__ = ("_at", "_shift", "_text_spans", "_words", "aligned", "marks", "spaced", "text")

    def __init__(
        self,
        text: str,
        marks: str,
        at: list[int] | None = None,
        shift: list[int] | None = None,
        text_spans: dict[int, int] | None = None,
    ) -> None:
        self.text = text
        self.marks = marks
        self.spaced = marks.replace("|", " ")
        self._at = at  # positions of spaced from which the text is shift[k] further on
        self._shift = shift
        self._text_spans = text_spans  # word by word: spaced position → text position
        self._words: Words | None = None
        # spaced is the text with a space either side: a position is the text's plus one
        self.aligned = at is None and text_spans is None

    @classmethod
    def of(cls, text: str) -> FieldText:
        if _OTHER_SCRIPT.search(text, 0, _LOOK_AHEAD) is None:  # (Arabic from the start:
            field = cls._translated(text, _ENCODING, _MARKS, _CASE)  # spares a failed try)
            if field is not None:
                return field
            if _OTHER_SCRIPT.search(text) is None:
                return cls.careful(text)
        field = cls._translated(text, _ARABIC_ENCODING, _ARABIC_MARKS, _ARABIC_CASE)
        return cls.careful(text) if field is None else field

    @classmethod
    def _translated(
        cls, text: str, encoding: str, marks_table: bytes, case_table: bytes
    ) -> FieldText | None:
        """The text encoded, each byte translated to its mark, decoded (Windows-1252, or
        Windows-1256 for Arabic and French letters); None when some character is one only the
        word-by-word path handles."""
        encoded = text.encode(encoding, _ERRORS)
        marks = " " + encoded.translate(marks_table).decode(encoding) + " "
        if _HARD in marks:
            return None
        case = encoded.translate(case_table)
        if b"AAs" in case or b"A.A" in case or b"L" in case:  # maybe IAs, I.A., Œs
            return cls.careful(text)
        if "  " not in marks and _DROP not in marks:
            return cls(text, marks)
        if _LONE_DROP.search(marks) is not None:  # (only in Windows-1256: tashkeel, tatweel)
            return cls.careful(text)
        return cls._squeezed(text, marks)

    @classmethod
    def _squeezed(cls, text: str, marks: str) -> FieldText:
        """Runs of joining gap characters made one space, characters that fold to nothing
        (:data:`_DROP`) removed (the text is longer there)."""
        pieces: list[str] = []
        at, shift = [0], [-1]  # spaced position p is text position p - 1 + shift
        done = removed = 0
        for run in _RUN.finditer(marks):
            start, end = run.span()
            keep = 0 if marks[start] == _DROP else 1
            pieces.append(marks[done : start + keep])
            removed += end - start - keep
            done = end
            at.append(start + keep - (removed - (end - start - keep)))
            shift.append(removed - 1)
        pieces.append(marks[done:])
        return cls(text, "".join(pieces), at, shift)

    @classmethod
    def careful(cls, text: str) -> FieldText:
        """Built from :func:`tokenize`: dotted and plural acronyms, any alphabet, any fold."""
        tokens = tokenize(text)
        pieces = [" "]
        spans: dict[int, int] = {}
        position = 1
        for index, word in enumerate(tokens.raw):
            if index:
                pieces.append(" " if tokens.joined[index] else "|")
                position += 1
            spans[position] = tokens.starts[index]
            spans[-(position + len(word))] = tokens.ends[index]  # ends keyed negative
            pieces.append(word)
            position += len(word)
        pieces.append(" ")
        return cls(text, "".join(pieces), text_spans=spans)

    @property
    def word_by_word(self) -> bool:
        """Whether the text took the word-by-word path (:meth:`careful`)."""
        return self._text_spans is not None

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the text that the words ``spaced[start:end]`` come from."""
        if self._text_spans is not None:
            return self._text_spans[start], self._text_spans[-end]
        if self._at is None or self._shift is None:
            return start - 1, end - 1
        at, shift = self._at, self._shift
        # (the end's shift is the one after the word: dropped tashkeel that ends it is its own)
        return start + shift[bisect_right(at, start) - 1], end + shift[bisect_right(at, end) - 1]

    def joined(self, start: int, end: int) -> bool:
        """Whether the words of ``spaced[start:end]`` are one phrase (no break between)."""
        return "|" not in self.marks[start:end]

    @property
    def words(self) -> Words:
        if self._words is None:
            self._words = self._word_table()
        return self._words

    def _word_table(self) -> Words:
        spaced, marks, text = self.spaced, self.marks, self.text
        parts = spaced.split(" ")
        positions = itertools.accumulate([len(part) + 1 for part in parts], initial=0)
        words = [part for part in parts if part]
        starts = [at for at, part in zip(positions, parts, strict=False) if part]
        ends = [start + len(word) for start, word in zip(starts, words, strict=True)]
        if self._at is None and self._text_spans is None:
            text_starts, text_ends = [at - 1 for at in starts], [at - 1 for at in ends]
        else:
            spans = [self.original(a, b) for a, b in zip(starts, ends, strict=True)]
            text_starts, text_ends = [a for a, _ in spans], [b for _, b in spans]
        steps = [1] * len(words)  # an elision (the l of l'IA) is no word apart from the next
        for index in [i for i, word in enumerate(words[:-1]) if plain(word) in _ELIDED]:
            gap = text[text_ends[index] : text_starts[index + 1]]
            if "|" not in marks[ends[index] : starts[index + 1]] and any(
                c in APOSTROPHES for c in gap
            ):
                steps[index] = 0
        ranks = list(itertools.accumulate(steps, initial=0))
        return Words(starts, ends, text_starts, text_ends, ranks)
