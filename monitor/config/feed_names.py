"""Source names for feeds that come without one (an OPML file's outlines): made from their
titles, unique, and independent of the order the feeds are listed in.

- A title that is already a valid name (letters, digits, ``_``, ``.``, ``-``) is kept as it is,
  so the names ``monitor sources --opml`` writes come back unchanged; any other title is
  lowercased and each run of other characters (spaces, punctuation) becomes one ``-``:
  ``Le Monde | Économie`` → ``le-monde-économie``. Accents and other scripts stay (Arabic
  titles keep their letters). An empty result takes the feed's host name.
- Feeds whose names come out the same, or the same as a name the configuration already has,
  each get ``-`` and six hexadecimal digits of their URL's SHA-256: the suffix depends on the
  URL alone, so reordering the file renames nothing.
- The same URL listed twice (a feed in two folders) is one feed with the tags of both, named
  by the first of its titles in alphabetical order. A URL the configuration's own sources
  already have is left out: what the configuration says of that feed wins.
- Folders' titles become tags the same way, then lowercased: ``Tech & IA`` → ``tech-ia``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from pydantic import TypeAdapter, ValidationError
from yarl import URL

from monitor.config.base import Name
from monitor.config.entries import Position

MAX_BASE = 80  # characters of a name made from a title; its suffix, if any, fits in Name's 100
SUFFIX = 6  # hexadecimal digits of the URL's hash that tell same-named feeds apart
_SEPARATORS = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class Outline:
    """One feed outline as read: its URL, title, folders, and where it is."""

    url: str
    title: str
    tags: tuple[str, ...]
    at: Position  # the outline's start tag
    url_at: Position  # its xmlUrl's value
    page: bool = False  # its type says its address is a web page, not a feed


@dataclass(frozen=True)
class Feed:
    """One feed to become a source: every outline of its URL merged."""

    name: str
    url: str
    tags: tuple[str, ...]
    at: Position
    url_at: Position
    page: bool  # every outline of its URL says it is a web page


@cache
def _name_adapter() -> TypeAdapter[str]:
    return TypeAdapter(Name)


def is_name(text: str) -> bool:
    """Whether ``text`` is a valid source name as the configuration checks it."""
    try:
        _name_adapter().validate_python(text)
    except ValidationError:
        return False
    return True


@cache
def _kept(char: str) -> bool:
    # what every regular expression engine's \w takes (pydantic checks names with Rust's)
    return char.isalpha() or char in "_." or unicodedata.category(char) in ("Nd", "Mn", "Mc")


def slug(text: str) -> str:
    """A title made a name (see the module's docstring); "" when nothing of it can be one."""
    text = unicodedata.normalize("NFC", " ".join(text.split()))
    if is_name(text):
        return text
    mapped = "".join(char if _kept(char) else " " for char in text.lower())
    words = [word for word in _SEPARATORS.split(mapped) if word]
    return "-".join(words)[:MAX_BASE].strip(".-")


def tag(text: str) -> str:
    """A folder's title made a tag: as a name, and lowercased (rules name tags as typed)."""
    return slug(text).lower()


def _host_name(url: str) -> str:
    try:
        host = URL(url).host
    except (ValueError, TypeError):
        host = None
    return slug(host or "") or "feed"


def _suffix(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:SUFFIX]


def _merged_tags(outlines: Sequence[Outline]) -> tuple[str, ...]:
    # each outline's folders outermost first; outlines taken in an order of their own
    tags: dict[str, None] = {}
    for outline in sorted(outlines, key=lambda o: o.tags):
        tags.update(dict.fromkeys(outline.tags))
    return tuple(tags)


def feeds(outlines: Iterable[Outline], names: set[str], urls: set[str]) -> list[Feed]:
    """The feeds of ``outlines`` (in the order each URL first appears), named apart from one
    another and from ``names``; those at one of ``urls`` are left out (the configuration's
    own sources: what it says of a feed wins)."""
    by_url: dict[str, list[Outline]] = {}
    for outline in outlines:
        if outline.url not in urls:
            by_url.setdefault(outline.url, []).append(outline)
    bases: dict[str, str] = {}
    for url, same in by_url.items():
        titles = sorted(slug(o.title) for o in same)
        bases[url] = next((t for t in titles if t), "") or _host_name(url)
    count: dict[str, int] = {}
    for base in bases.values():
        count[base] = count.get(base, 0) + 1
    found = []
    for url, same in by_url.items():
        base = bases[url]
        clash = count[base] > 1 or base in names
        name = f"{base[: 100 - SUFFIX - 1].rstrip('.-')}-{_suffix(url)}" if clash else base
        first = same[0]
        page = all(o.page for o in same)
        found.append(Feed(name, url, _merged_tags(same), first.at, first.url_at, page))
    return found
