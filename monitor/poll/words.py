"""The words of new items for search (monitor.store.search), folded as the matcher folds a
field: :class:`monitor.rules.canonical.FieldText` folds a text in a few whole-text steps, where
the store's own way (:func:`monitor.terms.text.tokenize`, for the items it indexes itself)
goes word by word, two to three times slower — on the poll's path, for every new item. Both
give the same words (tests/poll/test_words.py checks it on the project's corpora): ``marks``
is the folded text with ``|`` where a phrase breaks, and its words keyed as matching keys them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from monitor.core.models import Item
from monitor.rules.canonical import AE, OE, FieldText
from monitor.store.search import BREAK, MAX_WORD, indexed_texts
from monitor.terms import arabic
from monitor.terms.words import keys

_PLAIN = str.maketrans({OE: "oe", AE: "ae"})
_BREAKS = re.compile(r"\s*\|[\s|]*")  # a phrase break, and the gap around it
_ARABIC = re.compile("[\u0621-\u064a]")  # a folded Arabic letter (arabic.is_arabic)


def _without_long_words(raw: list[str]) -> list[str]:
    """``raw`` with a break for each word longer than MAX_WORD (never indexed), one break
    between two words at most."""
    found: list[str] = []
    for word in raw:
        if len(word) > MAX_WORD:
            word = BREAK
        if word != BREAK or not found or found[-1] != BREAK:
            found.append(word)
    return found


def _words(text: str, out: list[str], extra: set[str]) -> None:
    """Append the words of ``text`` to ``out`` (a break before them if ``out`` has some),
    in whole-text steps: a break becomes the word ``_``, whose key is itself; a word longer
    than MAX_WORD becomes one too. Add to ``extra`` the words indexed past a break."""
    if not text:
        return
    marks = FieldText.of(text).marks
    if OE in marks or AE in marks:
        marks = marks.translate(_PLAIN)
    raw = _BREAKS.sub(" _ ", marks).split()
    if raw and max(map(len, raw)) > MAX_WORD:
        raw = _without_long_words(raw)
    if raw and raw[0] == BREAK:
        del raw[0]
    if raw and raw[-1] == BREAK:
        del raw[-1]
    if not raw:
        return
    if out:
        out.append(BREAK)
    pairs = list(map(keys, raw))
    if _ARABIC.search(marks) is None:
        out += [key for key, _ in pairs]
        extra.update(w for w, (k, _) in zip(raw, pairs, strict=True) if w != k)
    else:
        out += [w if arabic.is_arabic(w) else k for w, (k, _) in zip(raw, pairs, strict=True)]
        extra.update(
            w for w, (k, _) in zip(raw, pairs, strict=True) if w != k and not arabic.is_arabic(w)
        )
    extra.update(other for _, other in pairs if other is not None)


def field_words(*texts: str) -> str:
    """What :func:`monitor.store.search.sqlite_words` gives for ``texts``."""
    out: list[str] = []
    extra: set[str] = set()
    for text in texts:
        _words(text, out, extra)
    if extra:
        out += [BREAK, *sorted(extra)]
    return " ".join(out)


def search_words(items: Sequence[Item]) -> Mapping[str, tuple[str, str]]:
    """By item key, the words of its title and of its text (PollOutcome.words)."""
    return {
        item.key: (
            field_words(item.title),
            field_words(*indexed_texts(item.summary, item.content)),
        )
        for item in items
    }
