"""Character spans of terms in a text, for highlighting where no match explanation is kept
(digest rows written before explanations were stored)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from monitor.config.rules import Condition, RuleConfig
from monitor.core.models import Item
from monitor.rules.matcher import Matcher
from monitor.terms.syntax import term_problem

Span = tuple[int, int]


@lru_cache(maxsize=256)
def _matcher(terms: tuple[str, ...]) -> Matcher | None:
    usable: list[Condition] = [term for term in terms if term_problem(term) is None]
    if not usable:
        return None
    return Matcher([RuleConfig(name="spans", any=usable)], scoped=False)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Spans sorted, overlapping or touching ones merged."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def find_spans(text: str, terms: Iterable[str]) -> list[Span]:
    """Character spans ``(start, end)`` of ``text`` where any of ``terms`` matches, with the
    matching semantics of rules; sorted and merged. Terms a rule could not use are ignored."""
    matcher = _matcher(tuple(terms))
    if matcher is None or not text:
        return []
    item = Item("", "", "", text, "", "", None)
    return merge_spans([(h.start, h.end) for m in matcher.match(item) for h in m.hits])
