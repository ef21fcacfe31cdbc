"""What the templates show of a digest's items (monitor.digest.render renders them): each item
as one clean view (title, snippet and their highlighted parts, dates in the digest's zone),
grouped into sections by rule or by story. Views are made once for equal items and kept: the
items of a first poll reach many subscribers, each digest with its own objects."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from hashlib import blake2b
from zoneinfo import ZoneInfo

from monitor.config.subscribers import Language
from monitor.core.models import Digest, DigestItem
from monitor.digest.i18n import strings
from monitor.digest.snippets import (
    Part,
    clean_line,
    flatten,
    marked_text,
    safe_href,
    snippet,
    split_parts,
)
from monitor.digest.stories import cluster
from monitor.digest.templating import PLAIN_TYPES
from monitor.rules.spans import find_spans

VIEWS_KEPT = 4096  # item views a Renderer remembers (see Renderer.view)


# Letters of the Arabic script; a text most of whose letters are Arabic is taken for Arabic (the
# press the project follows writes no other language in that script)
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_LETTER = re.compile(r"[^\W\d_]")


def script_language(text: str) -> str | None:
    """``"ar"`` when most letters of ``text`` are Arabic, else None (a Latin script says
    nothing of the language: the digest's own ``lang`` stands)."""
    arabic = len(_ARABIC_LETTER.findall(text))
    return "ar" if arabic and arabic * 2 > len(_LETTER.findall(text)) else None


def _lang(script: str | None, language: str) -> str | None:
    if script == language:
        return None
    return script or ("" if language == "ar" else None)


def rules_of(digest: Digest) -> list[str]:
    """Every rule that fired in the digest, in order of first appearance."""
    return list(dict.fromkeys(rule for item in digest.items for rule in item.rules))


def terms_of(item: DigestItem) -> list[str]:
    """The configured terms that matched the item, whatever rule they belong to."""
    return list(dict.fromkeys(term for terms in item.terms.values() for term in terms))


def highlights(item: DigestItem, field: str, text: str) -> list[tuple[int, int]]:
    """Where the matched terms are in ``text``, the item's ``field``: from the match
    explanations, or found again for deliveries recorded without them."""
    if item.hits is None:
        return find_spans(text, terms_of(item))
    return [(hit.start, hit.end) for _, hit in item.hits if hit.field == field]


@dataclass(frozen=True, slots=True)
class OtherView:
    """Another outlet's article on the same story (story grouping)."""

    title: str
    source: str
    link: str
    href: str | None
    date: str


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
    other_rules: list[str]  # every rule but the one it is listed under (grouped by rule)
    terms: list[str]
    snippet: str
    snippet_parts: list[Part]
    snippet_text: str  # the snippet with matched terms between asterisks
    also: list[OtherView] = field(default_factory=list)
    # its title's and snippet's lang= where it differs from the digest's: "ar" when their
    # letters are Arabic, "" (unknown) for others in an Arabic digest, None: the digest's own
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    title: str  # the rule's name, or "Articles" when grouped by story
    rule: str | None
    items: list[ItemView]


@dataclass(frozen=True, slots=True)
class Profile:
    """How one subscriber reads its digests."""

    language: Language = "fr"
    group_by: str = "rule"  # rule | story


def group_by_rule(
    items: Sequence[DigestItem], order: Sequence[str]
) -> list[tuple[str, list[DigestItem]]]:
    """Items under their first rule; sections in the configured rule order, then as they come."""
    rank = {rule: n for n, rule in enumerate(order)}
    groups: dict[str, list[DigestItem]] = {}
    for item in items:
        # the first in the configured order; stable, so the item's own order breaks ties
        first = sorted(item.rules, key=lambda rule: rank.get(rule, len(rank)))[:1]
        groups.setdefault(first[0] if first else "", []).append(item)
    return sorted(groups.items(), key=lambda group: rank.get(group[0], len(rank)))


def group_by_story(items: Sequence[DigestItem]) -> list[tuple[DigestItem, tuple[DigestItem, ...]]]:
    """(lead, others) per story: the same story from several outlets is listed once."""
    return [(story.lead, tuple(story.others)) for story in cluster(items)]


PLAIN_TYPES.update({OtherView, ItemView, Section})  # data only: templates may read every field


class Views:
    """Item views in ``zone``, the least recently used dropped first past VIEWS_KEPT."""

    def __init__(self, zone: ZoneInfo, labels: Mapping[str, str] | None = None) -> None:
        self.zone = zone
        self.labels = dict(labels or {})
        self._kept: dict[tuple[object, ...], ItemView] = {}

    def rule_label(self, rule: str) -> str:
        """What a digest shows of a rule: its ``label:``, else its name."""
        return clean_line(self.labels.get(rule, rule))

    def sections(
        self, items: Sequence[DigestItem], profile: Profile, rule_order: Sequence[str]
    ) -> list[Section]:
        language = profile.language
        if profile.group_by == "story":
            views = [
                replace(
                    self.view(lead, language),
                    also=[self.other(item, language) for item in others],
                )
                for lead, others in group_by_story(items)
            ]
            return [Section(strings(language).stories, None, views)] if views else []
        return [
            Section(
                self.rule_label(rule) or strings(language).stories,
                rule or None,
                [self.view(item, language, listed_under=rule) for item in members],
            )
            for rule, members in group_by_rule(items, rule_order)
        ]

    def format_date(self, moment: datetime | None, language: str = "fr") -> str:
        words = strings(language)
        if moment is None:
            return words.unknown_date
        if moment.tzinfo is None:  # models promise aware UTC; be lenient rather than wrong
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone).strftime(words.date_format)

    def other(self, item: DigestItem, language: str) -> OtherView:
        return OtherView(
            title=clean_line(item.title) or strings(language).no_title,
            source=clean_line(item.source),
            link=clean_line(item.link),
            href=safe_href(item.link),
            date=self.format_date(item.published, language),
        )

    def view(self, item: DigestItem, language: str = "fr", listed_under: str = "") -> ItemView:
        """What the templates show of ``item``; made once for equal items (every field: they
        are all it depends on, with the zone), whatever digest they come in."""
        fields: tuple[object, ...] = (item.title, item.link, item.source, item.published)
        fields += (item.summary, item.content, item.rules, tuple(item.terms.items()), item.hits)
        # (a digest of the fields, not the fields: a kept view must not keep an article's text)
        digest = blake2b(repr(fields).encode("utf-8", "surrogatepass"), digest_size=16)
        key = (language, listed_under, item.id, digest.digest())
        views = self._kept
        view = views.pop(key, None)  # (put back last: the most recently used)
        if view is None:
            view = self._view(item, language, listed_under)
            while views and len(views) >= VIEWS_KEPT:
                del views[next(iter(views))]
        views[key] = view
        return view

    def _view(self, item: DigestItem, language: str, listed_under: str) -> ItemView:
        terms = terms_of(item)
        title, title_spans = flatten(item.title, highlights(item, "title", item.title))
        if not title:
            title, title_spans = strings(language).no_title, []
        name, body = "summary", item.summary
        if (
            item.hits
            and item.content
            and not highlights(item, name, body)
            and highlights(item, "content", item.content)
        ):
            name, body = "content", item.content  # terms found in the content only: show them
        text, spans = snippet(body, highlights(item, name, body))
        parts = split_parts(text, spans)
        rules = [self.rule_label(rule) for rule in item.rules]
        return ItemView(
            title=title,
            title_parts=split_parts(title, title_spans),
            link=clean_line(item.link),
            href=safe_href(item.link),
            source=clean_line(item.source),
            date=self.format_date(item.published, language),
            rules=rules,
            other_rules=[
                r for r, raw in zip(rules, item.rules, strict=True) if raw != listed_under
            ],
            terms=[clean_line(term) for term in terms],
            snippet=text,
            snippet_parts=parts,
            snippet_text=marked_text(parts),
            lang=_lang(script_language(f"{title} {text}"), language),
        )
