"""Rendering a digest: subject line, plain text and HTML (DESIGN §3.6).

Building the Digest (grouping claimed outbox rows) is the outbox's job; this module only turns one
into text. Everything in a Digest comes from feeds and is hostile until proven otherwise:

- titles and snippets lose their control characters and collapse to one line (a title with CR/LF
  must not break a header, nor ANSI escapes a terminal).

What keeps feed HTML out of the HTML digest (the guarantee, in order):

1. No feed value is ever inserted as markup. Summaries reach the digest as plain text
   (``normalize.html_to_text`` at ingestion: tags dropped, script/style content dropped); titles,
   links, sources and snippets are plain strings too. The HTML template is autoescaped and
   highlighted snippets are passed as (text, hit) parts so that the template escapes them as
   well; nothing is marked ``|safe``. This alone is what guarantees safety.
2. A link becomes an ``href`` only when it is http(s) with a host (:func:`safe_href`);
   ``javascript:``, ``data:`` and relative links are shown as text.
3. A second net: the item list, the only part of the page that carries feed text, goes through
   nh3 (ammonia) with an allow-list of exactly the tags, attributes, CSS properties and URL
   schemes the template itself writes (:data:`SANITIZER`). Were a template change ever to emit a
   feed value unescaped, scripts, ``on*`` handlers and non-http(s) links would still not survive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
import nh3
from markupsafe import Markup

from monitor.models import Digest, DigestItem
from monitor.rules import find_spans

SUBJECT_PREFIX = "[veille]"
SUBJECT_MAX = 200
SNIPPET_WIDTH = 240
DATE_FORMAT = "%d/%m/%Y %H:%M"

# C0 and C1 control characters and DEL; white space among them becomes a plain space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")

# Exactly what digest.html.j2 writes inside the item list; everything else is dropped.
SANITIZER = nh3.Cleaner(
    tags={"ol", "li", "div", "p", "a", "mark"},
    clean_content_tags={"script", "style"},
    attributes={"*": {"style"}, "a": {"href"}},
    url_schemes={"http", "https"},
    url_relative="deny",
    filter_style_properties={
        "background-color",
        "color",
        "font-size",
        "font-weight",
        "margin",
        "margin-bottom",
        "padding-left",
        "word-break",
    },
)

Span = tuple[int, int]
Part = tuple[str, bool]  # a run of text and whether it is a matched term


def clean_line(text: str) -> str:
    """One line of text: control characters become spaces, white space runs collapse."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()


def snippet(text: str, terms: Sequence[str], width: int = SNIPPET_WIDTH) -> tuple[str, list[Span]]:
    """A window of about ``width`` characters around the first matched term, and the spans of the
    matched terms inside that window (offsets into the returned string).

    The text is flattened to one line first (terms match across any white space, so nothing is
    lost); without a match the window is the start of the text.
    """
    flat = clean_line(text)
    spans = find_spans(flat, terms) if terms else []
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


def sanitize(fragment: str) -> Markup:
    """``fragment`` (already escaped HTML) through nh3: the template's own markup survives."""
    return Markup(SANITIZER.clean(str(fragment)))  # nh3 output is markup we accept as is


def rules_of(digest: Digest) -> list[str]:
    """Every rule that fired in the digest, in order of first appearance."""
    return list(dict.fromkeys(rule for item in digest.items for rule in item.rules))


def terms_of(item: DigestItem) -> list[str]:
    """The configured terms that matched the item, whatever rule they belong to."""
    return list(dict.fromkeys(term for terms in item.terms.values() for term in terms))


@dataclass(frozen=True, slots=True)
class ItemView:
    """What the templates show of one item; every string is already one clean line."""

    title: str
    title_parts: list[Part]
    link: str
    href: str | None
    source: str
    date: str
    rules: list[str]
    terms: list[str]
    snippet: str
    snippet_parts: list[Part]


class Renderer:
    """Renders digests with the package templates; dates are shown in ``zone``."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("monitor", "templates"),
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html", "html.j2"), default_for_string=False, default=False
            ),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["sanitize"] = sanitize

    def subject(self, digest: Digest) -> str:
        """E.g. ``[veille] 3 nouveaux articles — demarchage, ia``; one line, at most 200 chars."""
        count = len(digest.items)
        if count == 0:
            words = "aucun nouvel article"
        elif count == 1:
            words = "1 nouvel article"
        else:
            words = f"{count} nouveaux articles"
        rules = ", ".join(rules_of(digest))
        line = clean_line(f"{SUBJECT_PREFIX} {words}" + (f" — {rules}" if rules else ""))
        if len(line) > SUBJECT_MAX:
            line = line[: SUBJECT_MAX - 1].rstrip() + "…"
        return line

    def text(self, digest: Digest) -> str:
        return self._render("digest.txt.j2", digest)

    def html(self, digest: Digest) -> str:
        return self._render("digest.html.j2", digest)

    def format_date(self, moment: datetime | None) -> str:
        if moment is None:
            return "date inconnue"
        if moment.tzinfo is None:  # models promise aware UTC; be lenient rather than wrong
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone).strftime(DATE_FORMAT)

    def view(self, item: DigestItem) -> ItemView:
        terms = terms_of(item)
        title = clean_line(item.title) or "(sans titre)"
        text, spans = snippet(item.summary, terms)
        link = clean_line(item.link)
        return ItemView(
            title=title,
            title_parts=split_parts(title, find_spans(title, terms) if terms else []),
            link=link,
            href=safe_href(item.link),
            source=clean_line(item.source),
            date=self.format_date(item.published),
            rules=[clean_line(rule) for rule in item.rules],
            terms=[clean_line(term) for term in terms],
            snippet=text,
            snippet_parts=split_parts(text, spans),
        )

    def _render(self, name: str, digest: Digest) -> str:
        template = self.env.get_template(name)
        return template.render(
            subject=self.subject(digest),
            digest_id=clean_line(digest.id),
            subscriber=clean_line(digest.subscriber),
            created=self.format_date(digest.created),
            count=len(digest.items),
            rules=rules_of(digest),
            items=[self.view(item) for item in digest.items],
        )
