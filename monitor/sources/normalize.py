"""From parsed entries to items: plain text, canonical links and identity (DESIGN §3.4)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from monitor.core.logs import event
from monitor.core.models import Entry, Item

# Elements whose boundaries separate words; inline ones (em, strong, a, span…) do not.
_BLOCK = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul img".split()
)
_SKIP = frozenset({"script", "style", "template", "noscript"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _any_case(name: str) -> str:
    """A pattern of ``name`` in any ASCII case (IGNORECASE would also take a long s, U+017F,
    for "s", where HTMLParser's tag names are ASCII)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in name)


# Markup that HTMLParser reads exactly as _simple_text reads it: a start tag with plain
# attributes (no "<" or ">" in their values), an end tag without attributes, a comment holding
# no "--". Any other "<" (text, a script or style whose text HTMLParser reads raw, <!DOCTYPE,
# <![CDATA[, a tag cut short…) makes the text HTMLParser's to read.
_ATTRIBUTES = (
    r"""(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'=<>`]+))?)*"""
)
_NAME = "[a-zA-Z][a-zA-Z0-9]*"
_COMMENT = r"<!--(?![->])(?:[^-]|-(?!-))*--\s*>"
_TAG = re.compile(rf"<{_NAME}{_ATTRIBUTES}\s*/?>|</{_NAME}\s*>")
_SIMPLE = re.compile(rf"{_TAG.pattern}|{_COMMENT}")
_COMMENTS = re.compile(_COMMENT)
_BLOCKS = "|".join(_any_case(name) for name in sorted(_BLOCK, key=len, reverse=True))
_BLOCK_TAG = re.compile(rf"<(?:{_BLOCKS}){_ATTRIBUTES}\s*/?>|</(?:{_BLOCKS})\s*>")
# an element whose text is skipped, or read raw (script, style): left to HTMLParser
_SKIPS = "|".join(_any_case(name) for name in _SKIP)
_SKIPPED = re.compile(rf"</?(?:{_SKIPS})(?![a-zA-Z0-9])|<\s*/?\s*(?:script|style)", re.IGNORECASE)
# where a tag or a comment stood, until entities are decoded (one cannot span it), then gone
_GAP = "\ue000"
# C0 control characters but tab, line feed and carriage return: each becomes a space
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _simple_text(value: str) -> str | None:
    """:class:`_TextExtractor`'s text of ``value``, when all its markup is :data:`_SIMPLE` and
    none skips its text (the common case, several times faster than HTMLParser, its work done by
    regular expressions); None otherwise."""
    if _SKIPPED.search(value) or _GAP in value or "<" in _SIMPLE.sub("", value):
        return None
    value = _TAG.sub(_GAP, _BLOCK_TAG.sub(" ", _COMMENTS.sub(_GAP, value)))
    return (unescape(value) if "&" in value else value).replace(_GAP, "")


def html_to_text(value: str) -> str:
    """Visible text of an HTML fragment: tags and script/style content dropped, entities
    decoded, Unicode NFC, runs of white space collapsed to one space."""
    if "<" in value or "&" in value:
        simple = _simple_text(value)
        if simple is None:
            parser = _TextExtractor()
            parser.feed(value)
            parser.close()
            simple = "".join(parser.parts)
        value = simple
    value = unicodedata.normalize("NFC", value)
    if _CONTROL.search(value):
        value = _CONTROL.sub(" ", value)
    return " ".join(value.split())


# Query parameters that only say where a click came from; dropped from canonical links.
_TRACKING_PREFIXES = ("utm_", "at_")
_TRACKING_NAMES = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "xtor"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_KEY_MAX = 512


def _is_tracking(param: str) -> bool:
    name = unquote_plus(param.split("=", 1)[0]).strip().lower()
    return name in _TRACKING_NAMES or name.startswith(_TRACKING_PREFIXES)


def canonical_link(url: str | None) -> str:
    """The link that identifies an article across sources (DESIGN §3.4), "" when there is none.

    Scheme and host lower-cased, default port, userinfo and fragment dropped, an empty path
    made "/", tracking parameters dropped, the remaining query sorted; every other part is
    kept byte for byte so the link still works.
    """
    if not url or not url.strip():
        return ""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ""
    if scheme not in _DEFAULT_PORTS or not host:
        return ""
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    params = [p for p in parts.query.split("&") if p and not _is_tracking(p)]
    query = "&".join(sorted(params))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _compact(prefix: str, value: str) -> str:
    key = prefix + value
    if len(key) <= _KEY_MAX:
        return key
    return prefix + "#" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _content_hash(title: str, published: datetime | None) -> str:
    stamp = published.isoformat() if published is not None else ""
    return hashlib.sha256(f"{title}\x1f{stamp}".encode("utf-8", "surrogatepass")).hexdigest()


def _as_utc(value: datetime | None, ceiling: datetime) -> datetime | None:
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return min(value, ceiling)


def _identity(entry: Entry, guid: str, link: str, title: str, shared_guid: bool) -> str:
    # The hash uses the entry's own date, never the clamped one, so it is stable across polls.
    if guid and not shared_guid:
        return _compact("g:", guid)
    if guid:
        tail = link or "h:" + _content_hash(title, entry.published)
        return _compact("g:", f"{guid}\x1f{tail}")
    if link:
        return _compact("l:", link)
    return "h:" + _content_hash(title, entry.published)


def to_items(source: str, entries: Sequence[Entry], fetched_at: datetime) -> list[Item]:
    """:func:`normalize`, with the shared GUIDs logged."""
    items, shared = normalize(source, entries, fetched_at)
    log_shared_guids(source, shared)
    return items


def log_shared_guids(source: str, shared: int) -> None:
    if shared:  # not merged: those entries are told apart by their links
        event("shared-guids", source=source, guids=shared, identity="guid+link")


def normalize(
    source: str, entries: Sequence[Entry], fetched_at: datetime
) -> tuple[list[Item], int]:
    """Items of one fetch, in feed order, one per identity key (DESIGN §3.4), and how many
    GUIDs several entries shared. Pure (it runs in the parse worker).

    A GUID that several entries share is not an identity: those entries use GUID + link.
    Dates are aware UTC and never later than ``fetched_at``.
    """
    ceiling = fetched_at.replace(tzinfo=UTC) if fetched_at.tzinfo is None else fetched_at
    ceiling = ceiling.astimezone(UTC)
    guids = Counter(e.guid.strip() for e in entries if e.guid and e.guid.strip())
    shared = {g for g, n in guids.items() if n > 1}
    items: list[Item] = []
    seen: set[str] = set()
    for entry in entries:
        guid = (entry.guid or "").strip()
        link = canonical_link(entry.link)
        title = html_to_text(entry.title)
        key = _identity(entry, guid, link, title, guid in shared)
        if key in seen:
            continue
        seen.add(key)
        items.append(
            Item(
                source=source,
                key=key,
                link=link,
                title=title,
                summary=html_to_text(entry.summary),
                content=html_to_text(entry.content),
                published=_as_utc(entry.published, ceiling),
            )
        )
    return items, len(shared)
