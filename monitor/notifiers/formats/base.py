"""What a webhook body builder returns, and the text helpers the chat presets share.

A builder is a pure function ``build(digest, renderer, target) -> list[Request]``: the requests
that deliver the digest to one service, in order. Everything from feeds arrives as plain text in
the renderer's :class:`~monitor.digest.views.ItemView` (one clean line each, ``href`` set only for
http(s) links); each preset escapes it for its own markup and cuts it to its service's limits.

Lengths are counted in UTF-16 code units (what the JavaScript and Java services count; never
fewer than Python's code points), or in UTF-8 bytes where a service counts bytes, so a message
measured under a limit here is under it there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.core.models import Digest
from monitor.digest.i18n import strings
from monitor.digest.render import Renderer
from monitor.digest.views import ItemView

ELLIPSIS = "…"
LABEL_ROOM = len(" (9999/9999)")  # the widest part label a digest of ≤ 1000 items can need
NO_MENTION = {"@": "@\u200b"}  # a zero-width space keeps "@channel" from reaching anyone


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request of a delivery. ``signed``: carries the Standard Webhooks headers."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    method: str = "POST"
    signed: bool = False

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a subscriber's digests go: its webhook URL, and the Telegram chat when it has one."""

    url: str
    chat_id: str | None = None


Builder = Callable[[Digest, Renderer, Target], list[Request]]


def no_problem(target: Target) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Preset:
    """A webhook format: its body builder, and a check of the target run once at start-up."""

    build: Builder
    check: Callable[[Target], str | None] = no_problem


def encode_json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_request(url: str, value: object) -> Request:
    return Request(url=url, body=encode_json(value))


def json_size(value: object) -> int:
    """Bytes ``value`` takes in a compact UTF-8 JSON body."""
    return len(encode_json(value))


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def translator(table: Mapping[str, str]) -> Callable[[str], str]:
    """An escaper that replaces characters one by one (so a prefix escapes to a prefix)."""
    codes = str.maketrans(dict(table))
    return lambda text: text.translate(codes)


def identity(text: str) -> str:
    return text


def clip(
    text: str,
    limit: int,
    escape: Callable[[str], str] = identity,
    measure: Callable[[str], int] = utf16_len,
) -> str:
    """``escape(text)``, or the escaped longest prefix of ``text`` followed by "…", whose
    ``measure`` is at most ``limit``: never cut inside an escape sequence."""
    whole = escape(text)
    if measure(whole) <= limit:
        return whole
    room = limit - measure(ELLIPSIS)
    kept: list[str] = []
    for char in text:
        piece = escape(char)
        size = measure(piece)
        if size > room:
            break
        kept.append(piece)
        room -= size
    return "".join(kept).rstrip() + ELLIPSIS


def link(view: ItemView, limit: int, escape: Callable[[str], str] = identity) -> str | None:
    """The item's escaped http(s) link, or None when it has none or it would not fit ``limit``
    (a cut link is a wrong link: the title is then shown without one)."""
    if view.href is None:
        return None
    escaped = escape(view.href)
    return escaped if utf16_len(escaped) <= limit else None


@dataclass(frozen=True, slots=True)
class Entry:
    """One item as a preset shows it: the renderer's view, and its line about it."""

    view: ItemView
    about: str  # source · date · rules, and the other outlets of its story


def about(view: ItemView, also_in: str) -> str:
    """``source · date · rules``: where and when, and why the subscriber gets it; then, when the
    item leads a story, the other outlets that ran it."""
    line = " · ".join([view.source, view.date, ", ".join(view.rules)])
    if view.also:
        line += f" · {also_in} " + ", ".join(dict.fromkeys(other.source for other in view.also))
    return line


def highlighted(
    view: ItemView,
    escape: Callable[[str], str],
    mark: Callable[[str], str],
    limit: int,
    measure: Callable[[str], int] = utf16_len,
) -> str:
    """The snippet, escaped, its matched terms passed through ``mark``; plain and clipped when
    the marked form would not fit ``limit``."""
    marked = "".join(
        mark(escape(text)) if hit else escape(text) for text, hit in view.snippet_parts
    )
    if measure(marked) <= limit:
        return marked
    return clip(view.snippet, limit, escape, measure)


def label(index: int, count: int) -> str:
    """`` (2/5)`` on each message of a digest sent in several; nothing when it fits in one."""
    return f" ({index}/{count})" if count > 1 else ""


def pack(sizes: Sequence[int], budget: int, max_count: int) -> list[list[int]]:
    """Indexes of consecutive units, grouped in order so that each group's sizes add up to at
    most ``budget`` and it holds at most ``max_count`` units. A unit larger than the budget goes
    alone (the builders clip each unit well under it). No unit: one empty group."""
    groups: list[list[int]] = [[]]
    used = 0
    for index, size in enumerate(sizes):
        current = groups[-1]
        if current and (used + size > budget or len(current) >= max_count):
            groups.append([])
            used = 0
        groups[-1].append(index)
        used += size
    return groups


def entries(digest: Digest, renderer: Renderer) -> list[Entry]:
    """The items as the email lists them: in the subscriber's language and order (grouped by
    rule, or by story with the other outlets named)."""
    profile = renderer.profile(digest.subscriber)
    also_in = strings(profile.language).also_in
    return [
        Entry(view, about(view, also_in))
        for section in renderer.views.sections(digest.items, profile, renderer.rule_order)
        for view in section.items
    ]
