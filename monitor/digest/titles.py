"""What story clustering compares of a title (:mod:`monitor.digest.stories`): the title
cleaned of outlet names and markers, its content words keyed like rule terms, its numbers,
names, acronyms and directions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from monitor.digest.story_words import (
    ALIASES,
    CONNECTORS,
    DIRECTIONS,
    KNOWN_OUTLETS,
    LEADING,
    NUMBER,
    NUMBER_WORDS,
    ORDINAL,
    QUARTERS,
    RUBRIC,
    SEPARATOR,
    STOP,
    SYNONYMS,
    TRAILING,
)  # fmt: skip
from monitor.terms.text import tokenize


@dataclass(frozen=True, slots=True)
class Title:
    """What :func:`same_story` compares of one title."""

    words: tuple[str, ...]  # every word key in order, function words too (for acronyms)
    content: frozenset[str]  # content word keys and numbers
    rubric: frozenset[str]  # content words of a section label before a colon ("Banques :")
    numbers: frozenset[str]  # numbers, dates and words with digits (T2, 5G)
    names: frozenset[str]  # capitalised content words and acronyms
    acronyms: frozenset[str]  # words written in three to six capitals
    directions: frozenset[tuple[int, int]]  # (group, +1 or -1) of DIRECTIONS


def is_outlet(tail: str) -> bool:
    """Whether the text after a title's last separator looks like an outlet's name."""
    words = tail.split()
    if not 1 <= len(words) <= 4:
        return False
    if tail.casefold() in KNOWN_OUTLETS:
        return True
    if any(word.isdigit() for word in words):
        return False  # "Chômage - T2 2025", "Bilan - 2025": part of the title
    if len(words) == 1:
        return True  # franceinfo, Le360, Challenge.ma
    if words[0].casefold() in CONNECTORS and words[0][0].islower():
        return False
    return all(w[0].isupper() or w[0].isdigit() or w.casefold() in CONNECTORS for w in words)


def clean(title: str) -> str:
    """The title without outlet names at its end and markers (VIDEO., [Exclusif]) at its ends."""
    text = " ".join(title.split())
    for _ in range(2):  # "Title | Section | Outlet"
        separators = list(SEPARATOR.finditer(text))
        if not separators:
            break
        last = separators[-1]
        head, tail = text[: last.start()], text[last.end() :]
        if len(head.split()) < 2 or not is_outlet(tail):
            break
        text = head
    while (found := LEADING.match(text)) is not None and found.end() < len(text):
        text = text[found.end() :]
    return TRAILING.sub("", text)


def numbers_in(text: str) -> set[str]:
    """The numbers of ``text`` written with digits, normalised (``1 500`` → ``1500``)."""
    found = set()
    for match in NUMBER.finditer(text):
        whole = re.sub(r"\D", "", match.group(1)).lstrip("0") or "0"
        decimals = (match.group(2) or "").rstrip("0")
        found.add(f"{whole}.{decimals}" if decimals else whole)
    return found


def direction(word: str) -> set[tuple[int, int]]:
    found = set()
    for group, sides in enumerate(DIRECTIONS):
        for sign, prefixes in zip((1, -1), sides, strict=True):
            if any(word == p if len(p) <= 3 else word.startswith(p) for p in prefixes):
                found.add((group, sign))
    return found


@lru_cache(maxsize=4096)
def analyse(title: str) -> Title:
    text = clean(title)
    tokens = tokenize(text)
    numbers = numbers_in(text)
    label = RUBRIC.match(text)
    label_end = label.end(1) if label is not None and len(label.group(1).split()) <= 3 else 0
    words: list[str] = []
    content, names, acronyms = set(numbers), set(), set()
    rubric: set[str] = set()
    body: set[str] = set()
    directions: set[tuple[int, int]] = set()
    for index, key in enumerate(tokens.words):
        original = text[tokens.starts[index] : tokens.ends[index]]
        key = QUARTERS.get(key, key)
        if key in ALIASES and (key != "ai" or original == "AI"):
            key = ALIASES[key]
        if words and (words[-1], key) in SYNONYMS:
            if words[-1] in names:
                names.add(SYNONYMS[words[-1], key])
            content.discard(words[-1])
            names.discard(words[-1])
            key = words[-1] = SYNONYMS[words[-1], key]
            content.add(key)
            continue
        words.append(key)
        directions |= direction(key)
        if key.isdigit() or key in STOP or ORDINAL.fullmatch(key):
            continue  # numbers written with digits are read whole by _numbers
        if key in NUMBER_WORDS or not key.isalpha():
            numbers.add(NUMBER_WORDS.get(key, key))
            content.add(NUMBER_WORDS.get(key, key))
            continue
        content.add(key)
        (rubric if tokens.ends[index] <= label_end else body).add(key)
        if original[0].isupper():
            names.add(key)
            if 3 <= len(original) <= 6 and original.isupper():
                acronyms.add(key)
    return Title(
        tuple(words), frozenset(content), frozenset(rubric - body),  # body words count fully
        frozenset(numbers), frozenset(names), frozenset(acronyms), frozenset(directions),
    )  # fmt: skip
