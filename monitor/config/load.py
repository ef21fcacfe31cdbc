"""Load the YAML configuration with every problem reported at once as ``PATH:LINE:COL: key: msg``.

The file is read with every value's position (monitor.config.located), then validated by the
models, and the checks across sections run; each problem points into the file. Subscribers
may also come from a YAML or CSV ``subscribers_file``, sources from an OPML or CSV
``sources_file`` (``monitor.config.entry_files``): they are validated with the others and their
problems point into that file.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.config.entries import Loc
from monitor.config.entry_files import add_entry_files
from monitor.config.located import Reader, read_file
from monitor.config.model import Config
from monitor.config.rules import RuleConfig, names_of
from monitor.config.rules import cross_problems as rule_problems
from monitor.config.sources import SourceConfig
from monitor.config.subscribers import CHANNELS, channel_problem
from monitor.config.suggest import keys_at, suggestion
from monitor.core.errors import ConfigError
from monitor.core.memory import uncollected

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "missing required key",
}


def _clean_loc(loc: tuple[int | str, ...], kind: str) -> Loc:
    # pydantic adds validator names (and union tags) to locations inside annotated or union types
    if kind == "source_kind":
        loc = (*loc, "kind")  # the source's kind names no known one
    return tuple(p for p in loc if isinstance(p, int) or not ("[" in p or p.startswith("function")))


def _cross_checks(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Checks between sections: unique names, known rules, an smtp block for email."""
    for section in ("sources", "rules", "subscribers"):
        seen: set[object] = set()
        entries = data.get(section)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str):  # (the model tells a name of another type)
                continue
            if name in seen:
                yield (section, i, "name"), f"duplicate name {name!r}"
            seen.add(name)
    known = names_of(data.get("rules"))
    subscribers = data.get("subscribers")
    for i, sub in enumerate(subscribers if isinstance(subscribers, list) else []):
        if not isinstance(sub, dict):
            continue
        wanted = sub.get("rules")
        for j, rule in enumerate(wanted if isinstance(wanted, list) else []):
            if isinstance(rule, str) and rule not in known:
                message = f"unknown rule {rule!r}{suggestion(rule, known)}"
                yield (("subscribers", i, "rules", j), message)
        problem = channel_problem([c for c in CHANNELS if sub.get(c) is not None])
        if problem:
            yield ("subscribers", i), problem
        if "email" in sub and not data.get("smtp"):
            yield ("subscribers", i, "email"), "an email subscriber needs an 'smtp' section"
    if data.get("sources_from") == "store" and data.get("sources"):
        yield (
            ("sources",),
            (
                "with sources_from: store the sources live in the store: list them in "
                "sources_file and write them there with 'monitor sources load'"
            ),
        )
    yield from rule_problems(data)
    yield from _signup_problems(data, known)


def _signup_problems(data: Mapping[str, Any], known: set[str]) -> Iterator[tuple[Loc, str]]:
    """Sign-up offers known rules, by email, from a public address."""
    http = data.get("http")
    if not isinstance(http, dict) or not isinstance(http.get("signup"), dict):
        return
    signup = http["signup"]
    offered = signup.get("rules")
    for j, rule in enumerate(offered if isinstance(offered, list) else []):
        if isinstance(rule, str) and rule not in known:
            yield ("http", "signup", "rules", j), f"unknown rule {rule!r}{suggestion(rule, known)}"
    if not data.get("smtp"):
        yield ("http", "signup"), "sign-up sends confirmation emails: it needs an 'smtp' section"
    if not http.get("base_url"):
        yield ("http", "signup"), "sign-up links need the public address: set http.base_url"


def _validated(reader: Reader, data: Mapping[str, Any], shift: int = 0) -> Config | None:
    """The configuration ``data`` validated, or None with every problem told to ``reader``.
    ``shift``: the index of the first of ``data``'s sources among the file's (a batch)."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = _clean_loc(error["loc"], error["type"])
            if shift and len(loc) > 1 and loc[0] == "sources" and isinstance(loc[1], int):
                loc = ("sources", loc[1] + shift, *loc[2:])
            if any(loc[:end] in reader.unset for end in range(len(loc) + 1)):
                continue  # its value, or one holding it, was already reported
            is_key = error["type"] == "extra_forbidden"
            message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
            if is_key and loc:
                message += suggestion(loc[-1], keys_at(Config, loc[:-1]))
            at_key = is_key or error["loc"][-1:] == ("[key]",)  # a mapping's key was refused
            reader.problem(reader.mark_of(loc, key=at_key), loc, message)
    return None


@dataclass(frozen=True, slots=True)
class Located:
    """One problem of a text: its line and column (from 1) and what is wrong, in words."""

    line: int
    column: int
    message: str


class RulesError(ConfigError):
    """Candidate rules that cannot be used; ``located`` holds each problem's place in the
    text given (the web app shows them beside it), ``problems`` the usual lines."""

    def __init__(self, problems: list[str], located: list[Located]) -> None:
        super().__init__(problems)
        self.located = located


def _rules_error(reader: Reader, path: str) -> RulesError:
    located = []
    for _, line, column, text in sorted(reader.problems):
        # (the first line only: a YAML syntax error adds the offending line and a caret)
        message = text.removeprefix(f"{path}:{line}:{column}: ").split("\n", 1)[0]
        located.append(Located(line, column, message))
    return RulesError(reader.error().problems, located)


def load_rules_file(path: str | Path, config: Config) -> list[RuleConfig]:
    """Candidate rules from a YAML file (``test-rule --rules``): see :func:`parse_rules`."""
    return parse_rules(read_file(path), str(path), config)


def parse_rules(
    text: str, path: str, config: Config, env: Mapping[str, str] | None = None
) -> list[RuleConfig]:
    """Candidate rules from YAML ``text`` holding ``rules: [...]`` or that list alone, checked
    like the configuration's, against its sources and the rules in force (which they may
    refer to); RulesError with every problem, located in ``text``. ``env``: the variables
    ``${VAR}`` may name (the process's environment unless told; the web app gives none, so no
    secret of the daemon's environment can be read through a rule)."""
    reader = Reader(path, os.environ if env is None else env)
    ok, node = reader.compose(text, path)
    if not ok:
        raise _rules_error(reader, path)
    try:
        if isinstance(node, yaml.SequenceNode):  # the list alone: located as the rules: key's
            data: Any = {"rules": reader.document(node, path, ("rules",))}
        else:
            data = reader.document(node, path) if node is not None else None
    except ConfigError:  # aliases expand it too far: told to the reader
        raise _rules_error(reader, path) from None
    if not isinstance(data, dict) or set(data) != {"rules"}:
        message = (
            "expected one section, rules: a list of rules as in the configuration "
            "(or that list alone)"
        )
        reader.problem(reader.mark_of(()), (), message)
        raise _rules_error(reader, path)
    candidates = _validated(reader, {"rules": data["rules"]})
    raw = data["rules"] if isinstance(data["rules"], list) else []
    if isinstance(data["rules"], list) and not raw:  # else all the rules in force are tried
        reader.problem(reader.mark_of(()), (), "no rule: the list of rules is empty")
    names = names_of(raw)
    in_force = [r.model_dump() for r in config.rules if r.name not in names]
    sources = [s.model_dump() for s in config.sources]
    seen: set[str] = set()
    for i, rule in enumerate(raw):
        name = rule.get("name") if isinstance(rule, dict) else None
        if not isinstance(name, str):  # (the model tells a name of another type)
            continue
        if name in seen:
            where: Loc = ("rules", i, "name")
            reader.problem(reader.mark_of(where), where, f"duplicate name {name!r}")
        seen.add(name)
    # candidates first: the problems' indices are those of the file
    merged = {"rules": [*raw, *in_force], "sources": sources, "sources_from": config.sources_from}
    for loc, message in rule_problems(merged):
        if len(loc) > 1 and isinstance(loc[1], int) and loc[1] >= len(raw):
            loc = ("rules",)  # found in a rule in force, through a candidate: at the list
        reader.problem(reader.mark_of(loc), loc, message)
    if reader.problems or candidates is None:
        raise _rules_error(reader, path)
    return candidates.rules


def rules_text(rules: Sequence[RuleConfig]) -> str:
    """``rules`` as YAML that :func:`parse_rules` reads back to the same rules (the list alone,
    defaults left out): the web app's trial starts from a rule in force this way."""
    dumped = [rule.model_dump(mode="json", exclude_defaults=True) for rule in rules]
    # flow style for the lists of terms, blocks for the rest, words as written (accents,
    # Arabic), a list on one line however long (a textarea wraps it where it fits)
    return yaml.safe_dump(
        dumped, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1_000_000
    )


def parse_config(text: str, path: str, env: Mapping[str, str] | None = None) -> Config:
    """Validate the configuration ``text`` read from ``path`` (which locates a subscribers
    file), with every problem at once as one ConfigError."""
    # reading 100,000 sources makes millions of objects (nodes, values, positions), none in a
    # cycle, and each pass of the collector walked them all: half the time of a YAML file's
    with uncollected():
        return _parse_config(text, path, env)


def _parse_config(text: str, path: str, env: Mapping[str, str] | None) -> Config:
    reader = Reader(path, os.environ if env is None else env)
    ok, node = reader.compose(text, path)
    if not ok:
        raise reader.error()
    data = reader.document(node, path) if node is not None else {}
    if not isinstance(data, dict):
        reader.problem(reader.mark_of(()), (), "the configuration must be a mapping of sections")
        raise reader.error()
    add_entry_files(reader, data, path)
    config = _validated(reader, data)
    for loc, message in _cross_checks(data):
        reader.problem(reader.mark_of(loc), loc, message)
    if reader.problems or config is None:
        raise reader.error()
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the configuration file; raises ConfigError with every problem."""
    text = read_file(path)
    config = parse_config(text, str(path), env)
    if config.templates and not Path(config.templates).is_absolute():
        # a templates folder is read relative to the configuration file, like a user expects
        folder = Path(path).parent / config.templates
        config = config.model_copy(update={"templates": str(folder)})
    return config


# sources validated at a time by a load: what it holds of the models besides the file's entries
SOURCES_BATCH = 2000


def check_sources_file(path: str | Path, env: Mapping[str, str] | None = None) -> int:
    """How many sources a CSV or OPML sources file has, each checked as ``monitor check``
    checks a configuration's (``sources_from: store``: ``monitor sources load``); ConfigError
    with every problem, ``PATH:LINE:COL`` in the file. Not capped like the configuration: the
    file may list a million sources."""
    return checked_sources_file(path, env).count


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """A sources file as :func:`checked_sources_file` found it right: its size and mtime
    before it was read, how many sources it had, and their names."""

    path: Path
    size: int
    mtime_ns: int
    count: int
    names: frozenset[str] = frozenset()  # its sources' names (how many are new to a store)

    def unchanged(self, seen: int) -> bool:
        """Whether a second reading of ``seen`` sources read the file checked (the same size,
        modification time and count): else a load removes nothing."""
        try:
            now = self.path.stat()
        except OSError:
            return False
        return (now.st_size, now.st_mtime_ns, seen) == (self.size, self.mtime_ns, self.count)


def checked_sources_file(path: str | Path, env: Mapping[str, str] | None = None) -> CheckedFile:
    """:func:`check_sources_file`, remembering what the file was (stat taken before it is
    read: a change while it is checked is seen too)."""
    file = Path(path)
    try:
        before = file.stat()
    except OSError:
        before = None  # (said by the reading, at its place)
    names: set[str] = set()
    for batch in _source_batches(file, env, SOURCES_BATCH):
        names.update(source.name for source, _ in batch)
    size, mtime = (-1, -1) if before is None else (before.st_size, before.st_mtime_ns)
    return CheckedFile(file, size, mtime, len(names), frozenset(names))


def sources_file_batches(
    path: str | Path, env: Mapping[str, str] | None = None, size: int = SOURCES_BATCH
) -> Iterator[list[SourceConfig]]:
    """The sources of a file :func:`check_sources_file` found right, ``size`` at a time (the
    file read again: no model of a source is kept past its batch)."""
    for batch in _source_batches(Path(path), env, size):
        yield [source for source, _ in batch]


def sources_file_definitions(
    path: str | Path, env: Mapping[str, str] | None = None, size: int = SOURCES_BATCH
) -> Iterator[list[tuple[SourceConfig, str]]]:
    """:func:`sources_file_batches` with each source's definition as the store keeps it
    (monitor.config.stored: the values written with a ``${VAR}`` kept so, unexpanded)."""
    from monitor.config.stored import definition

    for batch in _source_batches(Path(path), env, size):
        yield [(source, definition(source, written)) for source, written in batch]


def load_sources_file(path: str | Path, env: Mapping[str, str] | None = None) -> list[SourceConfig]:
    """Every source of a sources file at once (:func:`check_sources_file`)."""
    return [source for batch in sources_file_batches(path, env) for source in batch]


def _read_batches(entries: Iterator[Any], size: int, reader: Reader) -> Iterator[list[Any]]:
    """``entries`` ``size`` at a time; ConfigError when the file cannot be read."""
    while True:
        try:
            batch = list(itertools.islice(entries, size))
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            reader.problem(None, (), f"cannot read it: {reason}")
            raise reader.error() from None
        if not batch:
            return
        yield batch


def _find_duplicates(batch: list[Any], start: int, first: dict[str, int], reader: Reader) -> None:
    """Report each entry of ``batch`` (numbered from ``start``) whose name an earlier one has;
    ``first``: each name's first entry, so far."""
    for i, entry in enumerate(batch, start):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):  # (the model tells a name of another type)
            continue
        if first.setdefault(name, i) != i:
            loc: Loc = ("sources", i, "name")
            reader.problem(reader.mark_of(loc), loc, f"duplicate name {name!r}")


def _source_batches(
    file: Path, env: Mapping[str, str] | None, size: int
) -> Iterator[list[tuple[SourceConfig, dict[str, str]]]]:
    """The file's sources validated a batch at a time, each with the text of its fields
    written with a ``${VAR}`` (by name, before expansion), yielded as long as no problem was
    found; ConfigError with every problem once the file is read."""
    from monitor.config import sources_file

    reader = Reader(str(file), os.environ if env is None else env)
    if file.suffix.lower() not in sources_file.SUFFIXES:
        expected = f"{', '.join(sources_file.SUFFIXES[:-1])} or {sources_file.SUFFIXES[-1]}"
        reader.problem(None, (), f"expected a {expected} file")
        raise reader.error()
    streamed = sources_file.streamed(file)
    first: dict[str, int] = {}  # each name's first entry: a second one is a duplicate
    start = 0
    for batch in _read_batches(sources_file.stream_sources(file, reader), size, reader):
        written: dict[int, dict[str, str]] = {}  # by entry, its cells written with a ${VAR}
        for at, text in reader.written.items():
            if len(at) == 3 and at[0] == "sources" and isinstance(at[1], int):
                written.setdefault(at[1], {})[str(at[2])] = text
        config = _validated(reader, {"sources": batch}, shift=start)
        _find_duplicates(batch, start, first, reader)
        if config is not None and not reader.problems:
            yield [(source, written.get(i, {})) for i, source in enumerate(config.sources, start)]
        start += len(batch)
        if streamed:  # their positions: not needed past their batch (OPML's are all made first)
            reader.forget("sources", start)
    if reader.problems:
        raise reader.error()
