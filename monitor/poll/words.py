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
from monitor.store.search import BREAK, indexed_texts
from monitor.terms import arabic
from monitor.terms.words import keys

_PLAIN = str.maketrans({OE: "oe", AE: "ae"})
_BREAKS = re.compile(r"\s*\|[\s|]*")  # a phrase break, and the gap around it
_ARABIC = re.compile("[\u0621-\u064a]")  # a folded Arabic letter (arabic.is_arabic)


def _words(text: str, out: list[str], alternates: set[str]) -> None:
    """Append the words of ``text`` to ``out`` (a break before them if ``out`` has some),
    in whole-text steps: a break becomes the word ``_``, whose key is itself."""
    if not text:
        return
    marks = FieldText.of(text).marks
    if OE in marks or AE in marks:
        marks = marks.translate(_PLAIN)
    raw = _BREAKS.sub(" _ ", marks).split()
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
    else:
        out += [w if arabic.is_arabic(w) else k for w, (k, _) in zip(raw, pairs, strict=True)]
    alternates.update(other for _, other in pairs if other is not None)


def field_words(*texts: str) -> str:
    """What :func:`monitor.store.search.sqlite_words` gives for ``texts``."""
    out: list[str] = []
    alternates: set[str] = set()
    for text in texts:
        _words(text, out, alternates)
    if alternates:
        out += [BREAK, *sorted(alternates)]
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
