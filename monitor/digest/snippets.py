"""Feed text made fit for a digest: one clean line, a snippet around the matched terms with
their spans, and links a mail client may follow."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from urllib.parse import urlsplit

from monitor.rules.spans import merge_spans

SNIPPET_WIDTH = 240

# C0 and C1 control characters and DEL; white space among them becomes a plain space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")
# What clean_line changes: a run of two blanks or more, one blank other than a space, a space at
# either end (blank: white space or a control character, as above)
_BLANK = r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]"
_IRREGULAR = re.compile(rf"{_BLANK}{{2,}}|(?! ){_BLANK}|^ | \Z")
_BLANKS = re.compile(_BLANK)

Span = tuple[int, int]
Part = tuple[str, bool]  # a run of text and whether it is a matched term


def is_clean(text: str) -> bool:
    """Whether ``text`` is already one clean line (:func:`clean_line` would return it as is).

    Every blank but the space is unprintable (white space and control characters alike), so a
    printable text needs checking for its spaces only; ``isprintable`` runs at C speed, and most
    feed text passes it."""
    return (
        text.isprintable()
        and "  " not in text
        and not text.startswith(" ")
        and not text.endswith(" ")
    )


def clean_line(text: str) -> str:
    """One line of text: control characters become spaces, white space runs collapse."""
    if is_clean(text):
        return text
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def flatten(text: str, spans: Sequence[Span] = ()) -> tuple[str, list[Span]]:
    """:func:`clean_line` of ``text``, and ``spans`` of ``text`` moved to where their
    characters are in that line (merged, in order).

    A character of ``text`` inside a kept stretch moves by the blanks dropped before it; one in
    a dropped run of blanks (or the end) goes where the line is at that point, the place of the
    single space that run becomes."""
    starts: list[int] = []  # each kept stretch of text: where it starts, ends, and lands
    ends: list[int] = []
    lands: list[int] = []
    position = length = 0
    for run in _IRREGULAR.finditer(text):
        if run.start() > position:
            length += bool(starts)  # the space between two stretches
            starts.append(position)
            ends.append(run.start())
            lands.append(length)
            length += run.start() - position
        position = run.end()
    if position < len(text):
        length += bool(starts)
        starts.append(position)
        ends.append(len(text))
        lands.append(length)
    if starts == [0] and ends == [len(text)]:  # already one clean line: every offset stays
        return text, merge_spans(span for span in spans if 0 <= span[0] < span[1] <= len(text))
    line = " ".join(text[start:end] for start, end in zip(starts, ends, strict=True))

    def where(offset: int) -> int:
        stretch = bisect_right(starts, offset) - 1
        if stretch < 0:
            return 0
        return lands[stretch] + min(offset, ends[stretch]) - starts[stretch]

    pairs = ((where(a), where(b)) for a, b in spans if 0 <= a < b <= len(text))
    return line, merge_spans(span for span in pairs if span[0] < span[1])


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
    """The link if a mail client or a browser may follow it (http or https, with a host), else
    None: shown as text only (``javascript:``, ``data:``, relative, with white space)."""
    if not link or " " in link or (not link.isprintable() and _BLANKS.search(link)):
        return None  # white space or a control character
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
