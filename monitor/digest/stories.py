"""Story clustering (issue 4): the same story from several outlets appears once in a digest.

Each title is first reduced to its content:

- **cleaned**: outlet names after `` - ``, `` | ``, `` — ``, ``::`` (when the tail looks like a
  name: one word, or at most four capitalised words, no bare number) and markers (``VIDEO.``,
  ``[Exclusif]``, ``Direct :``, ``UPDATE 1-``, ``(vidéo)``) are dropped;
- **tokenised** like rule terms (:mod:`monitor.terms.text`: accents, case, apostrophes, plurals)
  minus French, English and Spanish function words, verbs of saying (``annonce``, ``says``) and
  ``nouveau``/``new``; ``intelligence artificielle`` and ``AI`` are ``ia``, ``DH`` is ``dirham``;
  numbers are read whole (``270.000`` = ``270 000``, ``13,3`` = ``13.3``), ordinals and small
  number words as digits (``1er`` = ``premier``), months and weekdays as dates.

Two titles are the same story (:func:`same_story`) when

- each keeps at least :data:`MIN_WORDS` content words (``Chiffre du jour`` says too little);
- no **number or date** contradicts: when each title has one the other lacks, they report
  different figures (``13,3 % au T2`` / ``12,8 % au T3``); one title may add a number;
- no **name** contradicts: when each has a capitalised word or an acronym the other lacks, they
  are about different actors or places (``Le Maroc adopte…`` / ``La France adopte…``); an acronym
  matches the initials of the other title's words (``BAM`` = ``Bank Al-Maghrib``);
- no **direction** contradicts (opens / closes, rises / falls, hires / cuts);
- they are not the same words in the same order but for one word replaced by an unrelated one
  or two: that word is the news (``crédit immobilier`` / ``crédit à la consommation``);
- enough of their content words have a counterpart in the other title: at least
  :data:`THRESHOLD` of the words of both (a Dice coefficient), where a word of a section label
  before a colon (``Banques :``) counts :data:`RUBRIC_WEIGHT`, and two words are counterparts
  when equal, when one is the other with another ending (``interdit``/``interdiction``: a common
  beginning of five letters or more covering three quarters of the shorter) or one typo apart
  (six letters or more).

Titles in two languages are not meant to merge: without translation they share only names and
numbers, which the same topic in two events shares as well, so a rule that merged them would
merge those too; a missed merge costs one extra line, a false one hides a story. Such titles are
compared like any others, and merge only if almost all their words agree.

The thresholds were tuned on ``tests/data/headline-pairs.yaml``; ``bench/cluster.py`` prints the
precision and recall.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import SequenceMatcher
from functools import lru_cache

from monitor.core.models import DigestItem
from monitor.digest.story_words import STOP
from monitor.digest.titles import Title, analyse

THRESHOLD = 0.65  # share of content words with a counterpart (tuned on headline-pairs.yaml)
RUBRIC_WEIGHT = 0.5  # what a word of a section label ("Banques :", "IA :") counts
MIN_WORDS = 3  # content words each title needs before it can be merged with another


@dataclass(frozen=True, slots=True)
class Story:
    """One story of a digest: the item shown and the same story from other sources."""

    lead: DigestItem  # the item shown (earliest published, else first)
    others: tuple[DigestItem, ...]  # same story from other sources ("also in: ...")


@lru_cache(maxsize=65536)  # the same word pairs come back for every pair of titles
def _similar(a: str, b: str) -> bool:
    """Whether two content words are one word: equal, with another ending, or one typo apart."""
    if a == b:
        return True
    if not (a.isalpha() and b.isalpha()):
        return False  # numbers match only when equal
    shorter = min(len(a), len(b))
    prefix = 0
    while prefix < shorter and a[prefix] == b[prefix]:
        prefix += 1
    if prefix >= 5 and prefix * 4 >= shorter * 3:
        return True
    return shorter >= 6 and abs(len(a) - len(b)) <= 1 and _one_edit(a, b)


def _one_edit(a: str, b: str) -> bool:
    """Whether one substitution, insertion or deletion turns ``a`` into ``b``."""
    if len(a) > len(b):
        a, b = b, a
    index = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) == len(b):
        return a[index + 1 :] == b[index + 1 :]
    return a[index:] == b[index + 1 :]


def _expansion(acronym: str, words: tuple[str, ...]) -> set[str] | None:
    """The words of ``words`` whose initials spell ``acronym`` (function words may be skipped:
    ``HCP`` = Haut-Commissariat au Plan, ``BAM`` = Bank Al-Maghrib), or ``None``."""
    for start, first in enumerate(words):
        if first[0] != acronym[0]:
            continue
        letter, used = 0, []
        for word in words[start:]:
            if letter < len(acronym) and word[0] == acronym[letter]:
                letter += 1
                used.append(word)
            elif word not in STOP:
                break
            if letter == len(acronym):
                return set(used)
    return None


def _matched(a: Title, b: Title) -> set[str]:
    """The content words of ``a`` that have a counterpart in ``b``."""
    found = {
        word
        for word in a.content
        if word in b.content or any(_similar(word, other) for other in b.content)
    }
    for acronym in a.acronyms - found:
        if _expansion(acronym, b.words) is not None:
            found.add(acronym)
    for acronym in b.acronyms - a.content:
        expansion = _expansion(acronym, a.words)
        if expansion is not None:
            found |= expansion & a.content
    return found


def _opposed(a: Title, b: Title) -> bool:
    """Whether the titles go opposite ways in some group of DIRECTIONS (each only one way)."""
    for group in {group for group, _ in a.directions}:
        signs_a = {sign for g, sign in a.directions if g == group}
        signs_b = {sign for g, sign in b.directions if g == group}
        if len(signs_a) == 1 and len(signs_b) == 1 and signs_a != signs_b:
            return True
    return False


def _same(a: Title, b: Title) -> bool:
    if len(a.content) < MIN_WORDS or len(b.content) < MIN_WORDS:
        return False
    if (a.numbers - b.numbers) and (b.numbers - a.numbers):
        return False  # each reports a figure or date the other lacks
    if _opposed(a, b):
        return False
    matched_a, matched_b = _matched(a, b), _matched(b, a)
    if (a.names - matched_a) and (b.names - matched_b):
        return False  # each names someone or somewhere the other does not
    if _substitution(a, b):
        return False
    matched = _weight(matched_a, a) + _weight(matched_b, b)
    return matched >= THRESHOLD * (_weight(a.content, a) + _weight(b.content, b))


def _substitution(a: Title, b: Title) -> bool:
    """Whether the titles say the same words in the same order but for one word replaced by one
    or two unrelated ones: that word is the news (``crédit immobilier`` / ``crédit à la
    consommation``, ``banks`` / ``insurers``). Related words do not count: a common beginning
    of four letters (``suppression`` / ``supprimer``), an acronym and its words (``BAM`` /
    ``Bank Al-Maghrib``)."""
    words_a = [word for word in a.words if word in a.content]
    words_b = [next((x for x in words_a if _similar(x, y)), y) for y in b.words if y in b.content]
    changes = [op for op in SequenceMatcher(None, words_a, words_b, autojunk=False).get_opcodes()
               if op[0] != "equal"]  # fmt: skip
    if len(changes) != 1 or changes[0][0] != "replace":
        return False
    _, start_a, end_a, start_b, end_b = changes[0]
    old, new = words_a[start_a:end_a], words_b[start_b:end_b]
    if sorted((len(old), len(new))) not in ([1, 1], [1, 2]):
        return False
    if any(x[:4] == y[:4] for x in old for y in new):
        return False
    return not any(
        len(short) == 1 and short[0] in title.acronyms and _expansion(short[0], other.words)
        for short, title, other in ((old, a, b), (new, b, a))
    )


def _weight(words: Iterable[str], title: Title) -> float:
    """How much ``words`` of ``title`` count: a section label says what the story is about, not
    what happened, so its words count half."""
    return sum(RUBRIC_WEIGHT if word in title.rubric else 1.0 for word in words)


def same_story(a: str, b: str) -> bool:
    """Whether two titles tell the same story (see the module docstring for the rules)."""
    return _same(analyse(a), analyse(b))


def _lead_order(item: DigestItem, position: int) -> tuple[bool, datetime, int]:
    """Sort key of a story's members for choosing its lead: dated first, earliest, first."""
    return item.published is None, item.published or datetime.min.replace(tzinfo=UTC), position


def cluster(items: Sequence[DigestItem]) -> list[Story]:
    """The stories of ``items``, ordered by their lead's position in ``items``.

    Items are taken in order; each joins the story it is the same story as for the largest
    share of members, if that share is at least half and no member comes from its source (two
    items of one source are two stories); otherwise it starts a story. Needing half of a story,
    not one member, keeps a chain of loose resemblances (A like B, B like C) from gathering
    different stories. The lead is the earliest published member (undated ones come after
    dated ones), the first in ``items`` among equals.
    """
    titles = [analyse(item.title) for item in items]
    groups: list[list[int]] = []
    for index, item in enumerate(items):
        best, best_share = None, 0.0
        for group in groups:
            if any(items[member].source == item.source for member in group):
                continue
            hits = sum(_same(titles[member], titles[index]) for member in group)
            share = hits / len(group)
            if hits and share >= 0.5 and share > best_share:
                best, best_share = group, share
        if best is None:
            groups.append([index])
        else:
            best.append(index)
    stories: list[tuple[int, Story]] = []
    for group in groups:
        lead = min(group, key=lambda member: _lead_order(items[member], member))
        others = tuple(items[member] for member in group if member != lead)
        stories.append((lead, Story(items[lead], others)))
    return [story for _, story in sorted(stories, key=lambda pair: pair[0])]
