"""Feed text made fit for a digest: one clean line, a snippet around the matched terms with
their spans, and links a mail client may follow."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from monitor.rules.spans import merge_spans

SNIPPET_WIDTH = 240

# C0 and C1 control characters and DEL; white space among them becomes a plain space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")

Span = tuple[int, int]
Part = tuple[str, bool]  # a run of text and whether it is a matched term


def clean_line(text: str) -> str:
    """One line of text: control characters become spaces, white space runs collapse."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def flatten(text: str, spans: Sequence[Span] = ()) -> tuple[str, list[Span]]:
    """:func:`clean_line` of ``text``, and ``spans`` of ``text`` moved to where their
    characters are in that line (merged, in order)."""
    pieces: list[str] = []
    where: list[int] = []  # for each character of text (and its end): its offset in the line
    length, space = 0, False
    for char in text:
        if char.isspace() or _CONTROL.match(char):
            where.append(length)
            space = length > 0
            continue
        if space:
            pieces.append(" ")
            length += 1
            space = False
        where.append(length)
        pieces.append(char)
        length += 1
    where.append(length)
    moved = ((where[start], where[end]) for start, end in spans if 0 <= start < end <= len(text))
    return "".join(pieces), merge_spans(span for span in moved if span[0] < span[1])


def snippet(text: str, spans: Sequence[Span], width: int = SNIPPET_WIDTH) -> tuple[str, list[Span]]:
    """A window of about ``width`` characters of ``text`` around the first of ``spans`` (the
    matched terms), and the spans inside that window (offsets into the returned string).

    The text is flattened to one line first; without spans the window is the start of the text.
    """
    flat, spans = flatten(text, spans)
    if len(flat) <= width:
        return flat, spans
    anchor, anchor_end = spans[0] if spans else (0, 0)
    start = max(0, anchor - width // 4)  # some context before the term
    if start > 0:
        space = flat.find(" ", start, anchor)
        start = space + 1 if space != -1 else start
    end = max(min(len(flat), start + width), anchor_end)
    if end < len(flat):
        space = flat.rfind(" ", anchor_end, end)
        end = space if space > start else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix) - start
    inside = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return prefix + flat[start:end].rstrip() + suffix, inside


def split_parts(text: str, spans: Sequence[Span]) -> list[Part]:
    """Cut text into runs, each flagged as a matched term or not, for the template to escape."""
    parts: list[Part] = []
    position = 0
    for start, end in spans:
        if start > position:
            parts.append((text[position:start], False))
        parts.append((text[start:end], True))
        position = end
    if position < len(text):
        parts.append((text[position:], False))
    return parts


def safe_href(link: str) -> str | None:
    """The link if a mail client may follow it (http or https), else None: shown as text only."""
    if not link or _CONTROL.search(link) or any(c.isspace() for c in link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return link


def marked_text(parts: Sequence[Part]) -> str:
    """The plain-text highlight: matched terms between asterisks."""
    return "".join(f"*{text}*" if hit else text for text, hit in parts)
