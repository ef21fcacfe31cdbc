"""``monitor test-rule``: rules applied to one source (a configured one by its name, a URL, a
file), or (``--backtest``) to the items the store kept, every match explained; candidate rules
(``--rules FILE``) compared with the rules in force. Nothing is written and nothing is sent:
the store is opened read-only."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.cli.reading import read_source
from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.core.clock import Clock, utcnow
from monitor.core.errors import SourceError
from monitor.core.models import Item, Match
from monitor.core.redact import printable, printable_json
from monitor.core.units import counted
from monitor.rules.matcher import Matcher
from monitor.store import open_reader
from monitor.store.retention import pruned_since, stream_items_since


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


def plan(config: Config, names: Sequence[str] | None, candidates: Sequence[RuleConfig]) -> Plan:
    """ValueError naming the unknown rules asked for with ``--rule``."""
    by_name = {rule.name: rule for rule in candidates}
    rules = [by_name.pop(rule.name, rule) for rule in config.rules] + list(by_name.values())
    known = [rule.name for rule in rules]
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown rule: {', '.join(unknown)}")
    default = [rule.name for rule in candidates] if candidates else known
    return Plan(rules, list(names) if names else default, bool(candidates))


def _excerpt(item: Item, field: str, start: int, end: int) -> str:
    return " ".join(item.fields()[field][start:end].split())


def _explain(match: Match, item: Item) -> list[dict[str, object]]:
    return [
        {
            "term": hit.term,
            "field": hit.field,
            "start": hit.start,
            "end": hit.end,
            "text": _excerpt(item, hit.field, hit.start, hit.end),
        }
        for hit in match.hits
    ]


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def print_json(tested: Tested) -> None:
    item = tested.item
    record: dict[str, object] = {
        "title": item.title,
        "link": item.link,
        "published": _stamp(item.published),
        "rules": [m.rule for m in tested.matches],
        "terms": {m.rule: list(m.terms) for m in tested.matches},
        "explain": {m.rule: _explain(m, item) for m in tested.matches},
    }
    if tested.seen_at is not None:
        record |= {"source": item.source, "seen": _stamp(tested.seen_at)}
        record |= {"added": list(tested.added), "removed": [m.rule for m in tested.removed]}
    print(printable_json(json.dumps(record, ensure_ascii=False)))


def _why(match: Match, item: Item) -> str:
    hits = "; ".join(
        f"{hit.term} [{hit.field} {hit.start}-{hit.end}: "
        f"«{_excerpt(item, hit.field, hit.start, hit.end)}»]"
        for hit in match.hits
    )
    return f"{match.rule}: {hits or ', '.join(match.terms)}"


def print_text(tested: Tested) -> None:
    item = tested.item
    print(printable(item.title))  # a feed's text: no control character reaches the terminal
    where = [item.source] if tested.seen_at is not None else []
    where += [item.link or "(no link)", _stamp(item.published) or "(undated)"]
    print(printable("  " + "  ".join(where)))
    for match in tested.matches:
        mark = "+ " if match.rule in tested.added else ""
        print(printable(f"  {mark}{_why(match, item)}"))
    for match in tested.removed:
        print(printable(f"  - {_why(match, item)}  (in force, no longer matches)"))


class Tester:
    """The candidate rules and, when they change some, the rules in force beside them."""

    def __init__(self, config: Config, chosen: Plan, scoped: bool) -> None:
        tags = config.source_tags()
        self.shown = chosen.shown
        self.matcher = Matcher(chosen.rules, tags, scoped=scoped)
        self.in_force = Matcher(config.rules, tags, scoped=scoped) if chosen.changed else None

    def test(self, item: Item, seen_at: datetime | None = None) -> Tested | None:
        """What the rules shown make of ``item``; None if nothing to show."""
        matches = tuple(m for m in self.matcher.match(item) if m.rule in self.shown)
        if self.in_force is None:
            return Tested(item, matches, seen_at=seen_at) if matches else None
        before = [m for m in self.in_force.match(item) if m.rule in self.shown]
        now = {m.rule for m in matches}
        added = tuple(sorted(now - {m.rule for m in before}))
        removed = tuple(m for m in before if m.rule not in now)
        if not matches and not removed:
            return None
        return Tested(item, matches, added, removed, seen_at)


async def test_rule_command(
    config: Config,
    source: str | None,
    names: list[str] | None,
    as_json: bool,
    candidates: Sequence[RuleConfig] = (),
    backtest: timedelta | None = None,
    clock: Clock = utcnow,
) -> int:
    try:
        chosen = plan(config, names, candidates)
    except ValueError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return 2
    show = print_json if as_json else print_text
    if backtest is None:
        assert source is not None
        try:
            found = await read_source(config, source, clock)
        except SourceError as exc:
            print(f"monitor: {exc}", file=sys.stderr)
            return 1
        # the rules' source and tag scopes apply to a configured source only
        tester = Tester(config, chosen, scoped=found.source is not None)
        items = found.items
        shown = [t for item in items if (t := tester.test(item)) is not None]
        for tested in shown:
            show(tested)
        if not as_json:
            of = f" of {found.source.name}" if found.source is not None else ""
            matching = f"{len(shown)} of {counted(len(items), 'item')}{of} {_match(len(shown))}"
            print(matching, file=sys.stderr)
        return 0
    return await _backtest(config, chosen, clock() - backtest, show, as_json)


def _match(count: int) -> str:
    return "matches" if count == 1 else "match"


async def _backtest(
    config: Config, chosen: Plan, since: datetime, show: Callable[[Tested], None], as_json: bool
) -> int:
    tester = Tester(config, chosen, scoped=True)
    total, shown = 0, 0
    matched: Counter[str] = Counter()
    added: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    engine = await open_reader(config.storage)  # one read-only connection pool for it all
    try:
        async for stored in stream_items_since(engine, since):
            total += 1
            tested = tester.test(stored.item, stored.seen_at)
            if tested is None:
                continue
            shown += 1
            show(tested)
            matched.update(match.rule for match in tested.matches)
            added.update(tested.added)
            removed.update(match.rule for match in tested.removed)
        pruned = 0 if as_json else await pruned_since(engine, since)
    finally:
        await engine.dispose()
    if as_json:
        return 0
    out = sys.stderr
    print(
        f"backtest since {_stamp(since.replace(microsecond=0))}: {counted(total, 'item')}",
        file=out,
    )
    if pruned:
        print(f"  {counted(pruned, 'more item')} of that window without text now (retention.text)",
              file=out)  # fmt: skip
    in_force = {rule.name for rule in config.rules}
    for name in chosen.shown:
        line = f"  {name}: {counted(matched[name], 'item')}"
        if chosen.changed:
            line += (
                f" (+{added[name]} -{removed[name]} compared with the rule in force)"
                if name in in_force
                else " (new rule)"
            )
        print(line, file=out)
    print(f"{shown} of {counted(total, 'item')} shown", file=out)
    return 0
