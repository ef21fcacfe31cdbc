"""Search over the items the store kept (DESIGN §3.7 ``/api/items?q=``), in the language of
rules (§3.3): the words of each item are indexed *folded and keyed exactly as matching keys
them* (:func:`monitor.terms.text.tokenize`), and so is every word of a query, so ``centre
d'appel`` finds "Centres d'appels" (any apostrophe) and ``IA`` finds "l'IA" without the
database knowing French.

What is indexed, per item, in two columns of ``items`` (store version 0013):

- ``title_words``: the keys of the title's words;
- ``text_words``: those of its summary and content, emptied with them when ``retention.text``
  prunes the text (monitor.store.retention), while the title's stay.

Each is written for the dialect's index: on SQLite the keys separated by spaces, an FTS5 table
(``item_search``, external content, kept by triggers) tokenizing them; a ``_`` stands between two
words a phrase cannot span (a full stop, a comma: as :attr:`Tokens.joined` says), and an FTS5
phrase never crosses it. On PostgreSQL a ``tsvector`` literal (``'key':position …``) that a GIN
index reads as it is (no text search configuration in between): a break skips a position. The
English second key of a plural (``companies``: ``company``, :func:`monitor.terms.words.keys`)
and the folded word as written when its key differs (``journal`` beside the key ``journau``:
a rule's ``journal*`` matches the word as written, :func:`monitor.terms.words.starts_with`)
come after the words, past a break: a word or a prefix finds them, a phrase does not (a
phrase's words are expanded to every key they may stand for instead, :func:`_forms`).

A word of more than :data:`MAX_WORD` characters is not indexed (a break stands in its place):
no real word is that long, and PostgreSQL refuses a ``tsvector`` word of 2,048 bytes or more,
which would fail the whole poll that found it. A query word that long is refused.

A query (:func:`parse_query`): words all required, ``"…"`` a phrase, ``-word`` or ``-"…"``
excluded, ``word*`` a prefix (three letters at least, as in rules). It becomes an FTS5 or a
``tsquery`` expression built only from keys, which are letters and digits: nothing typed reaches
the index's own syntax (``NEAR``, ``OR``, ``:``, parentheses are words or nothing).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.terms import arabic
from monitor.terms.syntax import MIN_PREFIX, prefix_forms
from monitor.terms.text import tokenize
from monitor.terms.words import keys, prefix_spellings, spellings

BREAK = "_"  # (SQLite) between two words a phrase cannot span: never a key
# characters of an item's summary and content indexed: a news text says what it is about well
# before that, and a 100,000-character content would cost every poll that finds it
MAX_INDEXED = 10_000
MAX_QUERY = 300  # characters of a query
MAX_PARTS = 12  # words and phrases in a query
# characters of the longest word indexed or searched, folded: far above any real word
# (anticonstitutionnellement has 25), far below PostgreSQL's 2,047 bytes for a word (4 a
# character at most in UTF-8), with room for an Arabic word's clitics
MAX_WORD = 200
# PostgreSQL keeps positions up to 16383: words past it share the last one (phrases there fail)
_MAX_POSITION = 16383


class QueryError(ValueError):
    """A query the search cannot take; the message says why, in words."""


def _keyed(text: str) -> tuple[list[str], list[bool], list[str]]:
    """The indexed words of ``text``, whether each is joined to the previous one, and the
    words indexed past a break: second keys of its English plurals, and folded words whose
    key differs. A word is its key, except an Arabic word, which is its folded form as
    written: matching finds an Arabic term in the forms it may take with clitics and endings
    (:func:`monitor.terms.arabic.spellings`), and so does a query. A word of more than
    :data:`MAX_WORD` characters is left out, the next word not joined to the one before."""
    tokens = tokenize(text)
    words: list[str] = []
    joined: list[bool] = []
    extra: set[str] = set()
    cut = False
    for index, (key, raw) in enumerate(zip(tokens.words, tokens.raw, strict=True)):
        if len(raw) > MAX_WORD:
            cut = True
            continue
        if arabic.is_arabic(raw):
            words.append(raw)
        else:
            words.append(key)
            if raw != key:
                extra.add(raw)
        joined.append(tokens.joined[index] and not cut)
        cut = False
        if (other := tokens.alternates.get(index)) is not None:
            extra.add(other)
    return words, joined, sorted(extra)


def sqlite_words(*texts: str) -> str:
    """The words of ``texts`` (one field, or summary then content) as the store keeps them
    (:func:`store_words` turns them into PostgreSQL's form): keys, ``_`` between two words a
    phrase cannot span and between two texts, then the English plurals' second keys."""
    out: list[str] = []
    extra: list[str] = []
    for text in texts:
        if not text:
            continue
        words, joined, alternates = _keyed(text)
        for word, join in zip(words, joined, strict=True):
            if out and not join and out[-1] != BREAK:
                out.append(BREAK)
            out.append(word)
        extra += alternates
        if out and out[-1] != BREAK:
            out.append(BREAK)  # (summary, then content: not one phrase)
    if extra:
        out += sorted(set(extra))
    while out and out[-1] == BREAK:
        out.pop()
    return " ".join(out)


def postgresql_words(words: str) -> str:
    """The ``tsvector`` literal of :func:`sqlite_words`' form: keys with their positions, a
    break skipping one (``<->`` then never spans it). The first position is left empty, so a
    title's last word and the text's first (the two columns concatenated) make no phrase."""
    positions: dict[str, list[int]] = {}
    at = 1
    for word in words.split():
        at += 1
        if word != BREAK:
            positions.setdefault(word, []).append(min(at, _MAX_POSITION))
    # a lexeme keeps at most 256 positions; keys are letters and digits only (no quoting)
    return " ".join(
        f"'{word}':{','.join(map(str, found[:256]))}" for word, found in positions.items()
    )


def indexed_texts(summary: str, content: str) -> tuple[str, str]:
    """The summary and content an item's text words are made of: at most MAX_INDEXED
    characters, and no summary the indexed content holds whole (feeds often give the first
    paragraph as both): folding and keying cost about a microsecond a word, on the poll's
    path. A summary only partly in the content is kept whole: its other words are found."""
    if summary and content and summary.strip() in content[:MAX_INDEXED]:
        summary = ""
    return summary[:MAX_INDEXED], content[: max(0, MAX_INDEXED - len(summary))]


def store_words(dialect: str, words: tuple[str, str]) -> tuple[str, str]:
    """``(title_words, text_words)`` in the form of :func:`sqlite_words` as ``dialect``'s
    index reads them."""
    if dialect == "postgresql":
        return postgresql_words(words[0]), postgresql_words(words[1])
    return words


def index_words(dialect: str, title: str, summary: str, content: str) -> tuple[str, str]:
    """``(title_words, text_words)`` of an item for the store's ``dialect``, folded here
    (the poll folds those of new items faster: monitor.poll.words, the same words)."""
    return store_words(
        dialect, (sqlite_words(title), sqlite_words(*indexed_texts(summary, content)))
    )


# -- queries

MAX_PHRASES = 64  # (SQLite) phrases a phrase with alternatives becomes, at most


@dataclass(frozen=True, slots=True)
class Part:
    """One word or phrase of a query: for each of its words in a row, the indexed words it
    may be (its key; an English plural's second key; an Arabic word's forms), or the
    beginnings of a prefix (``word*``) that its indexed words may start with."""

    words: tuple[tuple[str, ...], ...] = ()
    prefixes: tuple[str, ...] = ()
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    parts: tuple[Part, ...]

    @property
    def required(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if not p.excluded)

    @property
    def excluded(self) -> tuple[Part, ...]:
        return tuple(p for p in self.parts if p.excluded)


def _pieces(text: str) -> list[tuple[str, bool, bool]]:
    """``(text, quoted, excluded)`` for each word or quoted phrase of a query."""
    pieces: list[tuple[str, bool, bool]] = []
    at, length = 0, len(text)
    while at < length:
        if text[at].isspace():
            at += 1
            continue
        excluded = text[at] == "-"
        start = at + 1 if excluded else at
        if text.startswith('"', start):
            end = text.find('"', start + 1)
            if end < 0:
                raise QueryError('a quote (") opens a phrase that is never closed')
            pieces.append((text[start + 1 : end], True, excluded))
            at = end + 1
            continue
        end = start
        while end < length and not text[end].isspace() and text[end] != '"':
            end += 1
        pieces.append((text[start:end], False, excluded))
        at = end
    return pieces


def _forms(key: str, alternate: str | None, phrase: bool) -> tuple[str, ...]:
    """The indexed words a query word of ``key`` finds, as matching would find the term. In
    a phrase, every key of a word that shares one with it (``company``: ``companie``, the
    key of ``companies``, whose second key is indexed past a break, out of phrases' reach)."""
    if arabic.is_arabic(key):
        known = arabic.Known(arabic.lexicon(), frozenset({key}))
        return (key, *sorted(arabic.spellings(key, known) - {key}))
    found = dict.fromkeys((key,) if alternate is None else (key, alternate))
    if phrase:
        for each in tuple(found):
            found.update(dict.fromkeys(sorted(keys(word)[0] for word in spellings(each))))
    return tuple(found)


def _prefixes(raw: str) -> tuple[str, ...]:
    """The beginnings of the indexed words a prefix ``raw*`` finds: matching's
    (:func:`monitor.terms.words.starts_with`), of a word's key, second key or folded form as
    written, all indexed; an Arabic one's after any proclitics."""
    found: dict[str, None] = {}
    for form in prefix_forms(raw):
        found.update(dict.fromkeys(prefix_spellings(form) if arabic.is_arabic(form) else (form,)))
    return tuple(sorted(found))


def _part(piece: str, quoted: bool, excluded: bool) -> Part | None:
    prefix = not quoted and piece.endswith("*")
    words = piece.rstrip("*") if prefix else piece
    if "*" in words:
        raise QueryError(f"{piece!r}: a * may only end a word, as in centre* (not in quotes)")
    tokens = tokenize(words, term=True)
    if not tokens.words:
        return None  # punctuation alone: nothing to look for
    if any(len(word) > MAX_WORD for word in tokens.raw):
        # (folded: one character may become several, ㌀ four) never indexed, see MAX_WORD
        raise QueryError(f"a word has at most {MAX_WORD} characters (once folded)")
    if prefix:
        if len(tokens.words) > 1:
            raise QueryError(f"{piece!r}: a * ends one word, not several")
        if len(tokens.raw[0]) < MIN_PREFIX:
            raise QueryError(f"{piece!r}: a * needs at least {MIN_PREFIX} letters before it")
        return Part(prefixes=_prefixes(tokens.raw[0]), excluded=excluded)
    phrase = len(tokens.words) > 1
    forms = tuple(
        _forms(key, tokens.alternates.get(index), phrase) for index, key in enumerate(tokens.words)
    )
    return Part(words=forms, excluded=excluded)


def parse_query(text: str) -> Query | None:
    """The query ``text`` (None when it is empty); :class:`QueryError` when it cannot be
    searched: too long, an unclosed quote, a misplaced ``*``, nothing but exclusions."""
    if len(text) > MAX_QUERY:
        raise QueryError(f"a search has at most {MAX_QUERY} characters")
    if not text.strip():
        return None
    parts = [
        part
        for piece, quoted, excluded in _pieces(text)
        if (part := _part(piece, quoted, excluded)) is not None
    ]
    if len(parts) > MAX_PARTS:
        raise QueryError(f"a search has at most {MAX_PARTS} words or phrases")
    if not parts:
        raise QueryError("the search has no word to look for")
    if all(part.excluded for part in parts):
        raise QueryError("a search needs at least one word that is not excluded (-word)")
    return Query(tuple(parts))


def _fts_any(forms: Sequence[str]) -> str:
    return "(" + " OR ".join(f'"{form}"' for form in forms) + ")"


def _fts_part(part: Part) -> str:
    if part.prefixes:
        return "(" + " OR ".join(f'"{form}"*' for form in part.prefixes) + ")"
    if len(part.words) == 1:
        return _fts_any(part.words[0])
    if math.prod(map(len, part.words)) > MAX_PHRASES:
        # an FTS5 phrase has no alternatives: its words, each in any of its forms, anywhere
        # in the item (a wider net than the phrase; PostgreSQL keeps the phrase)
        return "(" + " AND ".join(_fts_any(forms) for forms in part.words) + ")"
    phrases = ['"' + " ".join(words) + '"' for words in itertools.product(*part.words)]
    return "(" + " OR ".join(phrases) + ")"


def fts5_query(query: Query) -> str:
    """The FTS5 MATCH expression of ``query``: double-quoted keys only (letters, digits)."""
    found = " AND ".join(_fts_part(part) for part in query.required)
    for part in query.excluded:
        found += f" NOT {_fts_part(part)}"
    return found


def _ts_part(part: Part) -> str:
    if part.prefixes:
        return "(" + " | ".join(f"'{form}':*" for form in part.prefixes) + ")"
    return (
        "("
        + " <-> ".join(
            "(" + " | ".join(f"'{form}'" for form in forms) + ")" for forms in part.words
        )
        + ")"
    )


def tsquery(query: Query) -> str:
    """The PostgreSQL ``tsquery`` literal of ``query``: quoted keys only (letters, digits)."""
    found = [_ts_part(part) for part in query.required]
    found += [f"!{_ts_part(part)}" for part in query.excluded]
    return " & ".join(found)
