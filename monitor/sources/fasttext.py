"""What the fast parse paths (monitor.sources.fastrss for RSS 2.0, fastatom for Atom 1.0,
fastrdf for RSS 1.0) share: the checks a document passes before one reads it, feedparser's
repairs of an element's text, which markup its sanitizer leaves with the same text, and the
document parsed once with lxml (the one entry, :func:`monitor.sources.fast.parse_fast`, picks
the path by its root element).

feedparser stays the parser of record: a fast path gives exactly the entries feedparser gives,
or declines the document (None) and feedparser reads it (tests/sources/test_fastrss.py,
tests/sources/test_fastatom.py and bench/differential.py compare both)."""

from __future__ import annotations

import re
import time
from html.entities import html5, name2codepoint
from typing import Any, NamedTuple

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from lxml import etree

# tags whose text comes out the same from both paths: those feedparser's sanitizer keeps (the
# text path splits words at the same ones), script and style (both drop them with their text),
# and iframe (both drop the tag; it has no text)
_TAGS = frozenset(
    "a abbr b blockquote br caption cite code dd div dl dt em figcaption figure h1 h2 h3 h4 h5 "
    "h6 hr i iframe img li ol p pre q s script small span strong style sub sup table tbody td "
    "tfoot th thead tr u ul".split()
)
# markup but a tag of _TAGS (its name is the run up to a blank, "/" or ">") and a comment: any
# other tag, <!DOCTYPE, <![CDATA[, <?… One search, in C, instead of a look at each tag's name;
# under IGNORECASE the long s (U+017F) reads as a letter too, so a name that starts with it is
# declined (feedparser reads it, as any document declined)
_OTHER_MARKUP = re.compile(
    r"<\s*/?\s*(?!(?:" + "|".join(sorted(_TAGS, key=len, reverse=True)) + r")(?:[\s/>]|$))"
    r"[A-Za-z]|<(?!!--)[!?]",
    re.IGNORECASE,
)
_DECLARED = re.compile(rb"^<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
# what feedparser's sanitizer drops with what it holds, or drops leaving what it holds (it
# keeps comments)
_DROPPED = re.compile(
    r"<(script|style)\b.*?(?:</\1\s*>|\Z)|<\s*/?\s*iframe\b[^>]*>", re.IGNORECASE | re.DOTALL
)
# what it keeps: a tag, or a comment, text and all (its text counts for the repair)
_KEPT = re.compile(r"<!--|-->|<[^>]*>")
_C1 = re.compile("[\x80-\x9f]")
# what feedparser takes for an entry wherever it is: item or entry, bare or in a namespace it
# reads as bare names (RSS 1.0's, Atom's…)
ENTRY_TAGS = tuple(
    f"{{{namespace}}}{name}" if namespace else name
    for namespace, prefix in _FeedParserMixin.namespaces.items()
    if prefix == ""
    for name in ("item", "entry")
)
# an entity reference as feedparser's sanitizer (sgmllib) reads one: a name, then ";" or not
_REFERENCE = re.compile(r"&([A-Za-z][-.A-Za-z0-9]*)(;?)")
_BARE = frozenset(name for name in html5 if not name.endswith(";"))  # "copy", "AMP", "eacute"…
# a character that starts a UTF-8 sequence then one that continues it, as ISO-8859-1 reads
# them: what any UTF-8 encoded twice holds
_PAIR = re.compile("[\xc2-\xf4][\x80-\xbf]")
DECLARATIONS = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)  # anywhere in the document
XML_BASE = b"xml:base"
# a link's attributes that feedparser reads as the fast paths do (it lower-cases attribute
# names, and takes url= or uri= for href=)
LINK_ATTRIBUTES = frozenset(("rel", "href", "type", "title", "hreflang", "length"))
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"  # (feedparser: only the language)
ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"  # RSS 1.0
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
)


class Declined(Exception):
    """The document is not one this path reads exactly like feedparser."""


def utf8(body: bytes, content_type: str | None) -> bool:
    charset = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type or "", re.IGNORECASE)
    if charset is not None and charset.group(1).lower() not in ("utf-8", "utf8"):
        return False
    declared = _DECLARED.match(body)
    if declared is not None and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def repaired(value: str) -> str:
    """feedparser's repairs of an element's text, as it makes them (feedparser.mixin pop)
    after stripping it: UTF-8 that was read as ISO-8859-1 and encoded again is decoded once
    more (``DÃ©marchage``), and C1 characters are taken for windows-1252's (``d\x92appels``,
    or ``d&#146;appels``, is ``d\u2019appels``)."""
    if value.isascii():
        return value
    if _PAIR.search(value):  # (without one, the first repair fails: no exception needed)
        try:
            value = value.encode("iso-8859-1").decode("utf-8")
        except UnicodeError:
            pass
    return value.translate(_cp1252) if _C1.search(value) else value


def references(value: str) -> str:
    """``value`` when its entity references (``&name``) come out of feedparser's sanitizer as
    the project's text reading (html.unescape) reads them; else declined. The sanitizer keeps
    an HTML 4 name as ``&name;`` and turns any other into text (``&check;`` is ``&check``);
    html.unescape also reads HTML 5's names, and the prefixes HTML 5 allows without ``;``
    (``&copy2024`` is ``©2024``)."""
    if "&" in value:
        for name, semicolon in _REFERENCE.findall(value):
            known = name in name2codepoint or name == "apos"
            if semicolon:
                same = known
            elif known:
                same = name in _BARE
            else:
                same = not any(name[:end] in _BARE for end in range(2, len(name) + 1))
            if not same:
                raise Declined
    return value


def markup(value: str) -> str:
    """``value`` (html) when its markup is only tags of _TAGS and comments, repaired as feedparser
    repairs its sanitizer's output; else declined."""
    if "<" in value and _OTHER_MARKUP.search(value):
        raise Declined
    references(value)
    if value.isascii() or "<" not in value:
        return repaired(value)  # (no markup: the sanitizer gives the text back)
    # feedparser repairs the sanitizer's output, without what it drops (scripts, styles,
    # iframe tags), while the text that comes out is the text between the tags. A run of non-ASCII
    # characters there that is not UTF-8 once encoded (or not ISO-8859-1 at all), fails the
    # first repair on both sides; text that would pass it is left to feedparser.
    # (without a pair of characters UTF-8 makes, or anything the sanitizer drops to join
    # two, the text has none either)
    if _PAIR.search(value) or _DROPPED.search(value):
        text = _KEPT.sub(" ", _DROPPED.sub("", value))
        if not text.isascii():
            try:
                text.encode("iso-8859-1").decode("utf-8")
            except UnicodeError:
                pass
            else:
                raise Declined
    return value.translate(_cp1252) if _C1.search(value) else value


def parsed_date(value: str | None) -> time.struct_time | None:
    """feedparser's own date parser (with the French forms monitor.sources.dates registers)."""
    return _parse_date(value) if value else None


def named_link(tag: object) -> bool:
    """An element feedparser reads as a link: named link, in any case or namespace."""
    return isinstance(tag, str) and tag.rpartition("}")[2].lower() == "link"


class Read(NamedTuple):
    """What a fast path read of a document."""

    entries: list[dict[str, Any]]  # the first max_items, as feedparser's entries
    total: int  # how many entries there are
    links: list[tuple[str, str]]  # the channel's or feed's links as feed.links: (rel, href)
    site: str | None  # feedparser's feed.link ("" without one); None: it may read another


def document(body: bytes, content_type: str | None) -> etree._Element | None:
    """The root of a UTF-8 document with no DOCTYPE or entity declaration (feedparser's path
    removes them) and no xml:base, parsed safely; None for any other."""
    if DECLARATIONS.search(body) or XML_BASE in body or not utf8(body, content_type):
        return None
    try:
        return etree.fromstring(body, SAFE_PARSER)
    except (etree.LxmlError, ValueError):
        return None
