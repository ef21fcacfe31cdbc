# ruff: noqa: RUF002, RUF003  (Arabic letters are the subject)
"""Arabic words as a reader reads them (DESIGN §3.3, issue 21): clitics, article, plurals.

Folding (:func:`monitor.terms.text.fold_char`) has already removed tashkeel and tatweel and
made the alef forms ``ا``, ``ى`` ``ي``, ``ة`` ``ه``, ``ؤ`` ``و``, ``ئ`` ``ي``. What is left is
the way Arabic writing glues small words to the next one:

- **proclitics**: a conjunction (``و`` ``ف``), then a preposition (``ب`` ``ك`` ``ل``), then the
  article ``ال`` (``ل`` + ``ال`` is written ``لل``), each optional: ``والذكاء``, ``بالذكاء``,
  ``للذكاء``, ``وبمراكز`` are ``ذكاء`` and ``مراكز`` for matching;
- **regular plurals, duals and case endings** (:data:`ENDINGS`): ``ات`` (with ``ة`` ↔ ``ات``:
  ``شركة`` ~ ``شركات``; after a real ``ه`` or ``ى``: ``توجيهات``, ``مستشفيات``), ``ون`` ``ين``
  (``موظف`` ~ ``موظفون``), the dual ``ان`` ``ين`` (``تان`` ``تين`` after ``ة``), the ``و`` of a
  plural before a noun (``موظفو``) and the ``ا`` of the accusative (``بلدا``).

As for French plurals, a term's word is turned into every form a text may write it in
(:func:`spellings`) rather than text words into their stems, so a text word is never cut
blindly: ``ولد`` is not ``و`` + ``لد`` because no term is ``لد``. A form that is a different
word in its own right is left out: ``وكالة`` ("agency") would be ``و`` + ``ك`` + ``آلة``
("machine"), and ``لبنان`` the dual of ``لبن``; the words known to be words (:class:`Known`) are
a lexicon of bare Arabic words shipped with the project and the words of the rules in force.
A term itself loses only its article (:func:`key`): names keep letters that look like clitics.

Pronoun suffixes (``شركته``) and broken plurals (``مركز`` / ``مراكز``) are not handled: a rule
lists the broken plural it wants (the documentation says so).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

# Folding of Arabic letters beyond what NFKD and dropping combining marks do (fold_char).
FOLD: dict[int, str] = str.maketrans(
    {
        "\u0640": "",  # tatweel (kashida): stretches a word, no letter
        "\u0649": "\u064a",  # alef maqsura → yeh
        "\u0629": "\u0647",  # teh marbuta → heh
        "\u0671": "\u0627",  # alef wasla → alef
        "\u06a9": "\u0643",  # Persian keheh → kaf
        "\u06cc": "\u064a",  # Persian yeh → yeh
    }
)

_FIRST, _LAST = "\u0621", "\u064a"  # hamza … yeh: the letters of Arabic words after folding
_ARTICLE = "\u0627\u0644"  # ال
_LAM = "\u0644"
_TEH_MARBUTA = "\u0647"  # ة as folded
_YEH = "\u064a"
_CONJUNCTIONS = ("", "\u0648", "\u0641")  # و ف
_PREPOSITIONS = ("", "\u0628", "\u0643", "\u0644")  # ب ك ل
_ALEF = "\u0627"


class _Ending(NamedTuple):
    """One regular ending: what it adds, to which words, how far it is from the bare word."""

    adds: str
    after: str  # the words it follows: ending in "heh" (ة or ه, as folded), "yeh", or "other"
    rank: int  # 1 case ending, 2 plural or dual, 3 a plural that may be of the feminine
    replaces: bool = False  # the final ة goes (شركة → شركات)


_PLURALS = ("\u0648\u0646", "\u064a\u0646", "\u0627\u0646")  # ون ين ان (ين: also the dual)
_AT = "\u0627\u062a"  # ات
# Folding makes ة and ه one letter, so a word ending in it takes both kinds of endings:
# شركة → شركات, and توجيه → توجيهات. ات ranks 3 where it is rather the plural of the word's
# feminine (موظفات is موظفة's). The و of a masculine plural before a noun (موظفو) and the ا of
# the accusative (بلدا, مغربيا) are case endings; not the ي of the plural before a noun (موظفي),
# which the text cannot tell from adjectives (بنكي, بلدي).
ENDINGS = (
    _Ending(_AT, "heh", 2, replaces=True),  # شركة → شركات
    _Ending("\u062a\u0627\u0646", "heh", 3, replaces=True),  # تان: شركتان
    _Ending("\u062a\u064a\u0646", "heh", 3, replaces=True),  # تين: شركتين
    *(_Ending(adds, "heh", 3) for adds in (_AT, *_PLURALS)),  # توجيهات, وجهان
    *(_Ending(adds, after, 2) for adds in _PLURALS for after in ("yeh", "other")),  # موظفون
    # مستشفى → مستشفيات, مستوى → مستويات: as often the plural as the feminine's plural
    # (مغربيات), which folding cannot tell apart (ى is ي), so it does not yield to it
    _Ending(_AT, "yeh", 2),
    _Ending(_AT, "other", 3),  # اتصال → اتصالات
    _Ending("\u0648", "other", 1),  # و: موظفو
    _Ending(_ALEF, "other", 1),  # ا: بلدا
    _Ending(_ALEF, "yeh", 1),  # ا: مغربيا
)
MIN_STEM = 2  # letters a word keeps once its clitics are off
MIN_PLURAL = 3  # letters a word needs before plural endings are added to it

# beside the sources, not the compiled modules (monitor.core.native): found from the package
# (through importlib, not an import: the compiled build does not depend on monitor/__init__)
LEXICON = Path(str(resources.files("monitor"))) / "terms" / "lexicon" / "arabic-words.txt.gz"


def _proclitics() -> tuple[str, ...]:
    """Every proclitic sequence, longest first: conjunction, preposition, article."""
    found = set()
    for conjunction in _CONJUNCTIONS:
        for preposition in _PREPOSITIONS:
            found.add(conjunction + preposition)
            article = _LAM if preposition == _LAM else _ARTICLE  # ل + ال is لل
            found.add(conjunction + preposition + article)
    return tuple(sorted(found, key=lambda p: (-len(p), p)))


PROCLITICS = _proclitics()  # "" last
# the proclitic sequences that end in the article (ال, وال, بال, لل, وبال…), longest first
_ARTICLED = tuple(p for p in PROCLITICS if p.endswith((_ARTICLE, _LAM + _LAM)))


def is_arabic(word: str) -> bool:
    """Whether a folded word is Arabic (its first character is an Arabic letter)."""
    return _FIRST <= word[0] <= _LAST


class Known:
    """Folded bare words that are words in their own right: the lexicon and the rules' words,
    looked up in place (no 42,000-word copy per rule set)."""

    __slots__ = ("also", "words")

    def __init__(self, words: frozenset[str], also: frozenset[str] = frozenset()) -> None:
        self.words = words
        self.also = also

    def __contains__(self, word: object) -> bool:
        return word in self.words or word in self.also


@lru_cache(maxsize=1)
def lexicon() -> frozenset[str]:
    """The bare Arabic words shipped with the project (``lexicon/README.md``), folded."""
    if not LEXICON.exists():
        return frozenset()
    with gzip.open(LEXICON, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _kind(bare: str) -> str:
    if bare.endswith(_TEH_MARBUTA):
        return "heh"
    return "yeh" if bare.endswith(_YEH) else "other"


def endings(bare: str) -> tuple[tuple[str, int], ...]:
    """``bare`` and its regular plurals, duals and case forms (:data:`ENDINGS`), each with its
    rank: how far it is from the bare word (0 for the word itself)."""
    if len(bare) < MIN_PLURAL:
        return ((bare, 0),)
    kind = _kind(bare)
    found = [(bare, 0)]
    for ending in ENDINGS:
        form = (bare[:-1] if ending.replaces else bare) + ending.adds
        if ending.after == kind and not form.endswith(_ALEF * 2):
            found.append((form, ending.rank))
    return tuple(found)


def _bases(rest: str) -> Iterator[tuple[str, int]]:
    """The words ``rest`` may be a form of (:func:`endings` undone), with the form's rank."""
    yield rest, 0
    if rest.endswith(_ALEF * 2):
        return
    for ending in ENDINGS:
        if rest.endswith(ending.adds):
            base = rest[: -len(ending.adds)] + (_TEH_MARBUTA if ending.replaces else "")
            if len(base) >= MIN_PLURAL and _kind(base) == ending.after:
                yield base, ending.rank


def readings(form: str, known: Known | frozenset[str]) -> Iterator[tuple[int, int, str]]:
    """Every way of reading the folded text word ``form`` as proclitics and a form of a known
    word: ``(letters of proclitics, rank of the ending, the word)``."""
    for prefix in PROCLITICS:
        if form.startswith(prefix) and len(form) - len(prefix) >= MIN_STEM:
            for word, rank in _bases(form[len(prefix) :]):
                if word in known:
                    yield len(prefix), rank, word


def key(word: str) -> str:
    """The bare form of a folded Arabic word of a *term* (or of a wildcard's prefix): without
    the article and what comes before it (``بالذكاء``, ``الذكاء`` → ``ذكاء``) when at least
    :data:`MIN_PLURAL` letters are left and the whole is not a word of the lexicon (``الماني``).
    Nothing else is taken off: a name the lexicon lacks keeps letters that look like a clitic
    or an ending (``لشكر`` is not ``شكر``, ``برشيد`` not ``رشيد``, ``سلمان`` not ``سلم``)."""
    words = lexicon()
    if word in words:
        return word
    for prefix in _ARTICLED:
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) >= MIN_PLURAL:
            # ل + ال + a word that starts with ل is written لل + the word (للبنان: لبنان)
            return _LAM + rest if prefix.endswith(_LAM * 2) and _LAM + rest in words else rest
    return word


def spellings(bare: str, known: Known | frozenset[str]) -> frozenset[str]:
    """Every way a text writes the word ``bare`` (clitics, plurals, duals), less the forms a
    reader reads as another word: one ``known`` (the lexicon and the rules' words) that the
    form spells with fewer clitics, or with an ending closer to it (``وكالات`` is ``وكالة`` +
    ``ات`` before it is ``و`` + ``ك`` + ``آلات``; ``لبنان`` is a word before it is a dual)."""
    found = set()
    for stem, rank in endings(bare):
        for prefix in PROCLITICS:
            form = prefix + stem
            mine = (len(prefix), rank)
            if form == bare or not any(
                (clitics, ending) < mine and word != bare
                for clitics, ending, word in readings(form, known)
            ):
                found.add(form)
    return frozenset(found)


def prefix_spellings(form: str) -> frozenset[str]:
    """Beginnings of the words a wildcard ``form*`` matches (see :func:`starts_with`): ``form``
    after any proclitics, and before ``ات`` ``تان`` ``تين`` without the ``ة`` it ends in."""
    forms = {form, form[:-1]} if form.endswith(_TEH_MARBUTA) and len(form) > 1 else {form}
    return frozenset(prefix + beginning for prefix in PROCLITICS for beginning in forms)


def starts_with(word: str, forms: tuple[str, ...]) -> bool:
    """Whether the folded text ``word``, after its proclitics, or a word it is a regular plural
    of, starts with one of ``forms`` (``اتصال*`` matches ``والاتصالات``, ``شركة*`` ``شركات``)."""
    for prefix in PROCLITICS:
        if word.startswith(prefix):
            rest = word[len(prefix) :]
            if any(base.startswith(forms) for base, _ in _bases(rest)):
                return True
    return False
