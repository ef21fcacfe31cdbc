"""``monitor test-rule``: rules applied to one source (a configured one by its name, a URL, a
file), or (``--backtest``) to the items the store kept, every match explained; candidate rules
(``--rules FILE``) compared with the rules in force. Nothing is written and nothing is sent:
the store is opened read-only."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from monitor.cli.reading import read_source
from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.core.clock import Clock, utcnow
from monitor.core.errors import SourceError
from monitor.core.models import Item, Match
from monitor.core.redact import printable, printable_json
from monitor.core.units import counted
from monitor.rules.trial import Plan, Tested, Tester, excerpt, explain, plan
from monitor.store import open_reader
from monitor.store.catalog import SourceTags
from monitor.store.definitions import Definitions
from monitor.store.retention import in_chunks, pruned_since, stream_items_since

CHUNK = 500  # items matched per read of their sources' tags (store mode)


def _explain(match: Match, item: Item) -> list[dict[str, object]]:
    return [found.as_json() for found in explain(match, item, around=0)]


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
        f"{hit.term} [{hit.field} {hit.start}-{hit.end}: «{excerpt(item, hit)}»]"
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


def _tester(config: Config, chosen: Plan, scoped: bool) -> Tester:
    """In store mode the configuration has no source: each item's tags are given with it."""
    at_match = config.sources_from == "store"
    return Tester(config.rules, config.source_tags(), chosen, scoped, tags_at_match=at_match)


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
        chosen = plan(config.rules, names, candidates)
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
        tester = _tester(config, chosen, scoped=found.source is not None)
        items = found.items
        tags = found.source.tags if found.source is not None else ()  # (store mode's)
        shown = [t for item in items if (t := tester.test(item, tags=tags)) is not None]
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
    tester = _tester(config, chosen, scoped=True)
    total, shown = 0, 0
    matched: Counter[str] = Counter()
    added: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    engine = await open_reader(config.storage)  # one read-only connection pool for it all
    tags = SourceTags(Definitions(engine)) if config.sources_from == "store" else None
    try:
        async for chunk in in_chunks(stream_items_since(engine, since), CHUNK):
            # store mode: the tags of the chunk's sources, read from their definitions
            of = {} if tags is None else await tags.of(s.item.source for s in chunk)
            for stored in chunk:
                total += 1
                tested = tester.test(stored.item, stored.seen_at, of.get(stored.item.source, ()))
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
