"""Rules tried before they are put in force: candidate rules in place of the rules of the same
name, each match explained (which term, in which field, where), and what each changed rule
adds and removes compared with the rule in force. ``monitor test-rule`` (monitor.cli.testrule)
prints it; the web app's ``/rules/try`` (monitor.web.trying) shows it. Nothing here reads the
store or writes anything: callers give the items.

Not compiled (monitor.core.native): it runs once per item beside the matcher, which is."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.config.rules import RuleConfig, references
from monitor.core.models import Hit, Item, Match
from monitor.rules.matcher import Matcher

CONTEXT = 80  # characters of the field shown on each side of a highlighted term


@dataclass(frozen=True, slots=True)
class Tested:
    """One item and what the rules shown make of it (``added``/``removed``: compared with the
    rules in force, when candidate rules are tested)."""

    item: Item
    matches: tuple[Match, ...]
    added: tuple[str, ...] = ()
    removed: tuple[Match, ...] = ()  # the matches of the rules in force that no longer fire
    seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The rules to compile (candidates in place of the rules in force of the same name) and
    the names whose matches are shown."""

    rules: list[RuleConfig]
    shown: list[str]
    changed: bool  # candidate rules were given: compare with the rules in force


def plan(
    in_force: Sequence[RuleConfig], names: Sequence[str] | None, candidates: Sequence[RuleConfig]
) -> Plan:
    """ValueError naming the unknown rules asked for with ``names``."""
    by_name = {rule.name: rule for rule in candidates}
    rules = [by_name.pop(rule.name, rule) for rule in in_force] + list(by_name.values())
    known = [rule.name for rule in rules]
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown rule: {', '.join(unknown)}")
    default = [rule.name for rule in candidates] if candidates else known
    return Plan(rules, list(names) if names else default, bool(candidates))


def needed(rules: Sequence[RuleConfig], names: Collection[str]) -> list[RuleConfig]:
    """The rules of ``rules`` named in ``names`` and those they refer to (``rule: NAME``),
    however deep, in their order in ``rules``: all a matcher of those rules needs."""
    by_name = {rule.name: rule for rule in rules}
    wanted: set[str] = set()
    pending = [name for name in names if name in by_name]
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(n for n in references(by_name[name]) if n in by_name)
    return [rule for rule in rules if rule.name in wanted]


class Tester:
    """The candidate rules and, when they change some, the rules in force beside them.
    ``tags``: each source's tags (rules scoped by tags); ``tags_at_match``: no such map (store
    mode), each item's source's tags are given to :meth:`test`; ``scoped=False`` ignores the
    rules' source and tag scopes (items of a feed that is not configured)."""

    def __init__(
        self,
        in_force: Sequence[RuleConfig],
        tags: Mapping[str, Sequence[str]],
        chosen: Plan,
        scoped: bool,
        tags_at_match: bool = False,
    ) -> None:
        self.shown = chosen.shown
        self.matcher = Matcher(chosen.rules, tags, scoped=scoped, tags_at_match=tags_at_match)
        self.in_force = (
            Matcher(in_force, tags, scoped=scoped, tags_at_match=tags_at_match)
            if chosen.changed
            else None
        )

    def test(
        self, item: Item, seen_at: datetime | None = None, tags: Sequence[str] = ()
    ) -> Tested | None:
        """What the rules shown make of ``item`` (``tags``: its source's, with
        ``tags_at_match``); None if nothing to show."""
        matches = tuple(m for m in self.matcher.match(item, tags) if m.rule in self.shown)
        if self.in_force is None:
            return Tested(item, matches, seen_at=seen_at) if matches else None
        before = [m for m in self.in_force.match(item, tags) if m.rule in self.shown]
        now = {m.rule for m in matches}
        added = tuple(sorted(now - {m.rule for m in before}))
        removed = tuple(m for m in before if m.rule not in now)
        if not matches and not removed:
            return None
        return Tested(item, matches, added, removed, seen_at)


def _join_spaces(text: str) -> str:
    """Runs of white space as one space, a space kept at either end (a piece joins the next)."""
    inner = " ".join(text.split())
    if not inner:
        return " " if text else ""
    lead = " " if text[0].isspace() else ""
    tail = " " if text[-1].isspace() else ""
    return lead + inner + tail


def excerpt(item: Item, hit: Hit) -> str:
    """The text the term matched, on one line."""
    return " ".join(item.fields()[hit.field][hit.start : hit.end].split())


@dataclass(frozen=True, slots=True)
class Explained:
    """Why a rule matched, one found term: the term as written in the rule, the field, the
    character span in that field, the text found there, and some of the field around it (on
    one line; ``…`` where it is cut)."""

    term: str
    field: str
    start: int
    end: int
    text: str
    before: str
    after: str

    def as_json(self) -> dict[str, object]:
        return {"term": self.term, "field": self.field, "start": self.start, "end": self.end,
                "text": self.text}  # fmt: skip


def explain(match: Match, item: Item, around: int = CONTEXT) -> list[Explained]:
    """Each term that made ``match`` fire on ``item``, where it was found."""
    found = []
    for hit in match.hits:
        field = item.fields()[hit.field]
        first = max(0, hit.start - around)
        last = min(len(field), hit.end + around)
        before, after = _join_spaces(field[first : hit.start]), _join_spaces(field[hit.end : last])
        if first:  # cut: "…" where the text goes on
            before = "…" + before.lstrip()
        if last < len(field):
            after = after.rstrip() + "…"
        found.append(
            Explained(hit.term, hit.field, hit.start, hit.end, excerpt(item, hit), before, after)
        )
    return found
