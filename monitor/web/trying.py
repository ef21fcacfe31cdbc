"""Try a rule (DESIGN §3.7, ``/rules/try`` and ``POST /api/rules/try``): candidate rules pasted
as YAML, run over the items the store kept in a window, every match explained, and for a rule of
the same name in force, the items it would add and those it would no longer match. The rules
are read as ``monitor test-rule --rules`` reads a file (monitor.config.load.parse_rules, errors
located in the text) and tried as its ``--backtest`` tries them (monitor.rules.trial). Nothing
is written: not the configuration, not the store.

The work is bounded: at most :data:`MAX_TEXT` characters and :data:`MAX_RULES` rules, a window
of at most 30 days read newest first in chunks (monitor.store.retention.stream_newest_since)
and at most :data:`MAX_SCANNED` items of it, :data:`BUDGET` seconds (the newest items are
tried first: a trial stopped short has tried the most recent), :data:`SHOWN` items kept per
rule and list (the rest counted), and one trial at a time in the server (:class:`Trials`),
another refused at once while one runs (:class:`Busy`).

The daemon's event loop also polls, sends digests and answers the liveness probe: the matching
of each chunk runs in a thread (``asyncio.to_thread``), so the loop only ever reads a chunk
and hands it over, and the matchers compile only the rules compared and those they refer to
(:func:`monitor.rules.trial.needed`), not every rule in force."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.load import Located, RulesError, parse_rules
from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.core.errors import ConfigError
from monitor.core.models import Match
from monitor.rules.trial import Explained, Plan, Tested, Tester, explain, needed, plan
from monitor.store.catalog import SourceTags
from monitor.store.definitions import Definitions
from monitor.store.retention import READ_CHUNK, StoredItem, in_chunks, stream_newest_since

WINDOWS = {"1d": 1, "2d": 2, "7d": 7, "14d": 14, "30d": 30}  # the window's choices, in days
WINDOW = "7d"  # the page's first choice
MAX_TEXT = 20_000  # characters of rules (the app's body limit is far above: 256 KB)
MAX_RULES = 20
SHOWN = 100  # items shown per rule and list; the rest are counted
MAX_SCANNED = 100_000  # items of the window tried, the newest first
BUDGET = 20.0  # seconds a trial may take; then it stops, the newest items tried
CHUNK = READ_CHUNK  # items read, then matched in a thread, at a time
PATH = "rules"  # the name of the pasted text in the loader's messages (never shown)


class BadRequest(ValueError):
    """A request the trial cannot take (not the rules' problems: those are its ``errors``)."""


class Busy(RuntimeError):
    """Another trial is running in this server: this one is refused, not queued (a client that
    has gone away would not cancel its queued trial: aiohttp does not cancel handlers)."""


def window_of(text: object) -> str:
    """``text`` when it is one of :data:`WINDOWS`; BadRequest naming the choices otherwise."""
    if isinstance(text, str) and text in WINDOWS:
        return text
    raise BadRequest(f"window: one of {', '.join(WINDOWS)}")


KINDS = ("matched", "added", "removed")  # each rule's lists of items


@dataclass(frozen=True, slots=True)
class Shown:
    """An item shown in a rule's list, with why the rule matched it (in "removed", why the
    rule in force did)."""

    stored: StoredItem
    match: Match
    explained: list[Explained]


@dataclass(slots=True)
class RuleTrial:
    name: str
    in_force: bool  # a rule of this name is in force: what it adds and removes is shown
    lists: dict[str, list[Shown]] = field(default_factory=lambda: {k: [] for k in KINDS})
    counts: Counter[str] = field(default_factory=Counter)  # items in each list, shown or not

    def keep(self, kind: str, stored: StoredItem, match: Match) -> None:
        self.counts[kind] += 1
        shown = self.lists[kind]
        if len(shown) < SHOWN:  # (explained only when shown)
            shown.append(Shown(stored, match, explain(match, stored.item)))


@dataclass(slots=True)
class Trial:
    """A trial's answer: the text as given (the form shows it again), its problems, or what
    each of its rules makes of the window's items."""

    text: str
    window: str
    errors: list[Located] = field(default_factory=list)
    rules: list[RuleTrial] = field(default_factory=list)
    scanned: int = 0  # items of the window tried
    titles_only: int = 0  # of them, past retention.text: only their title was tried
    stopped: bool = False  # the older items of the window were left untried, because…
    out_of_time: bool = False  # …the trial took its BUDGET (else: MAX_SCANNED were tried)


def _position(text: str, index: int) -> tuple[int, int]:
    """The line and column (from 1) of character ``index`` of ``text``."""
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _rules(text: str, config: Config) -> tuple[list[RuleConfig], list[Located]]:
    """The candidate rules of ``text``, or its problems, each located in it."""
    if len(text) > MAX_TEXT:
        line, column = _position(text, MAX_TEXT)
        return [], [Located(line, column, f"longer than {MAX_TEXT:,} characters: try fewer rules")]
    if not text.strip():
        return [], [Located(1, 1, "no rule: paste one or more rules")]
    try:
        # no environment: ${VAR} in a pasted rule is never replaced by the daemon's secrets
        rules = parse_rules(text, PATH, config, env={})
    except RulesError as exc:
        return [], exc.located
    if len(rules) > MAX_RULES:
        return [], [Located(1, 1, f"{len(rules)} rules: try at most {MAX_RULES} at a time")]
    return rules, []


def _tester(config: Config, candidates: list[RuleConfig]) -> tuple[Tester, Plan]:
    """The matchers of the trial: the candidates (in place of the rules in force of the same
    name) and, to compare with, those rules in force, each with only the rules it refers to
    (compiling every rule in force would cost the trial a matcher of the whole configuration).
    ConfigError or ValueError if they cannot be compiled."""
    chosen = plan(config.rules, None, candidates)
    compared = {rule.name for rule in config.rules} & set(chosen.shown)
    trimmed = Plan(needed(chosen.rules, chosen.shown), chosen.shown, chosen.changed)
    in_force = needed(config.rules, compared)
    # store mode: no source in the configuration, each item's tags given with it (_try_chunk)
    at_match = config.sources_from == "store"
    tester = Tester(in_force, config.source_tags(), trimmed, scoped=True, tags_at_match=at_match)
    return tester, chosen


def _collect(stored: StoredItem, tested: Tested, by_name: dict[str, RuleTrial]) -> None:
    for match in tested.matches:
        rule = by_name[match.rule]
        rule.keep("matched", stored, match)
        if rule.in_force and match.rule in tested.added:
            rule.keep("added", stored, match)
    for match in tested.removed:
        by_name[match.rule].keep("removed", stored, match)


def _try_chunk(
    tester: Tester,
    chunk: Sequence[StoredItem],
    by_name: dict[str, RuleTrial],
    trial: Trial,
    tags: Mapping[str, Sequence[str]],
) -> None:
    """Match one chunk and keep what it shows (in a thread: the loop awaits it, so nothing else
    touches ``trial`` meanwhile); ``tags``: its sources' in store mode."""
    for stored in chunk:
        trial.scanned += 1
        trial.titles_only += not stored.text_kept
        tested = tester.test(stored.item, stored.seen_at, tags.get(stored.item.source, ()))
        if tested is not None:
            _collect(stored, tested, by_name)


async def try_rules(
    engine: AsyncEngine,
    config: Config,
    text: str,
    window: str,
    now: datetime,
    timer: Callable[[], float] = time.monotonic,
) -> Trial:
    """What the rules of ``text`` match over the items seen in the ``window`` before ``now``
    (one of :data:`WINDOWS`), or the problems of ``text``; within :data:`BUDGET` seconds of
    ``timer``."""
    trial = Trial(text, window_of(window))
    started = timer()
    # in a thread: a hostile text (aliases expanding to a million values) costs seconds
    candidates, trial.errors = await asyncio.to_thread(_rules, text, config)
    if trial.errors:
        return trial
    try:
        tester, chosen = await asyncio.to_thread(_tester, config, candidates)
    except (ConfigError, ValueError) as exc:  # (checked by parse_rules: a last safeguard)
        trial.errors = [Located(1, 1, " ".join(str(exc).split()))]
        return trial
    in_force = {rule.name for rule in config.rules}
    by_name = {name: RuleTrial(name, name in in_force) for name in chosen.shown}
    trial.rules = list(by_name.values())
    since = now - timedelta(days=WINDOWS[window])
    tags = SourceTags(Definitions(engine)) if config.sources_from == "store" else None
    async for chunk in in_chunks(stream_newest_since(engine, since, CHUNK), CHUNK):
        if timer() - started >= BUDGET:  # items are left: the trial says it stopped short
            trial.stopped = trial.out_of_time = True
            break
        left = MAX_SCANNED - trial.scanned
        if len(chunk) > left:
            trial.stopped = True
            chunk = chunk[:left]
        of = {} if tags is None else await tags.of(s.item.source for s in chunk)
        await asyncio.to_thread(_try_chunk, tester, chunk, by_name, trial, of)
        if trial.stopped:
            break
    return trial


class Trials:
    """One trial at a time in this server: each costs a read of the window and the matching
    of every item in it. Another asked meanwhile is refused at once (:class:`Busy`): queued,
    trials would pile up behind a slow one, each kept even when its client has gone."""

    def __init__(self, timer: Callable[[], float] = time.monotonic) -> None:
        self._lock = asyncio.Lock()
        self.timer = timer

    async def run(
        self, engine: AsyncEngine, config: Config, text: str, window: str, now: datetime
    ) -> Trial:
        window_of(window)  # (a bad request is refused as such, busy or not)
        if self._lock.locked():  # (no await between this test and the taking: no race)
            raise Busy("another trial is running")
        async with self._lock:
            return await try_rules(engine, config, text, window, now, self.timer)


# -- as JSON (POST /api/rules/try)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(stored: StoredItem, shown: list[Shown]) -> dict[str, Any]:
    item = stored.item
    return {
        "id": stored.id,
        "title": item.title,
        "link": item.link,
        "source": item.source,
        "published": _iso(item.published),
        "seen": _iso(stored.seen_at),
        "text_kept": stored.text_kept,
        "rules": [s.match.rule for s in shown],
        "terms": {s.match.rule: list(s.match.terms) for s in shown},
        "explain": {s.match.rule: [e.as_json() for e in s.explained] for s in shown},
    }


def _listed(trial: Trial, kind: str) -> list[dict[str, Any]]:
    """The items the rules' ``kind`` lists show, each once, newest first, with the matches
    that put it there."""
    by_id: dict[int, list[Shown]] = {}
    for rule in trial.rules:
        for shown in rule.lists[kind]:
            by_id.setdefault(shown.stored.id, []).append(shown)
    newest = sorted(by_id, key=lambda i: (by_id[i][0].stored.seen_at, i), reverse=True)
    return [_item(by_id[i][0].stored, by_id[i]) for i in newest]


def as_json(trial: Trial) -> dict[str, Any]:
    return {
        "errors": [
            {"line": e.line, "column": e.column, "message": e.message} for e in trial.errors
        ],
        **{kind: _listed(trial, kind) for kind in KINDS},
        "rules": {
            rule.name: {"in_force": rule.in_force, **{kind: rule.counts[kind] for kind in KINDS}}
            for rule in trial.rules
        },
        "window": trial.window,
        "scanned": trial.scanned,
        "titles_only": trial.titles_only,
        "stopped": trial.stopped,
        "out_of_time": trial.out_of_time,
        "budget_seconds": BUDGET,
        "shown_per_rule": SHOWN,
    }
