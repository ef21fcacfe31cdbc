"""Load the YAML configuration with every problem reported at once as ``PATH:LINE:COL: key: msg``.

The YAML is composed into nodes first so that each value keeps its position; ``${VAR}`` is
replaced from the environment in scalar strings (config only, never feed data).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from monitor.config import CHANNELS, Config, channel_problem
from monitor.errors import ConfigError

Loc = tuple[str | int, ...]
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "missing required key",
}


class _Reader:
    def __init__(self, path: str, env: Mapping[str, str]) -> None:
        self.path = path
        self.env = env
        self.marks: dict[Loc, yaml.Mark] = {}
        self.problems: list[tuple[int, int, str]] = []
        self.unset: set[Loc] = set()  # values whose variable was missing: not validated further
        self.constructor = yaml.constructor.SafeConstructor()

    def problem(self, mark: yaml.Mark | None, loc: Loc, message: str) -> None:
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        text = f"{self.path}:{line}:{column}: {dotted(loc) or '(top)'}: {message}"
        if (line, column, text) not in self.problems:
            self.problems.append((line, column, text))

    def error(self) -> ConfigError:
        return ConfigError([text for _, _, text in sorted(self.problems)])

    def value(self, node: yaml.Node, loc: Loc) -> Any:
        self.marks[loc] = node.start_mark
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.constructor.construct_object(key_node)
                if key in result:
                    self.problem(key_node.start_mark, (*loc, key), "duplicate key")
                self.marks[(*loc, key, "__key__")] = key_node.start_mark
                result[key] = self.value(value_node, (*loc, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.value(child, (*loc, i)) for i, child in enumerate(node.value)]
        scalar = self.constructor.construct_object(node)
        if isinstance(scalar, str) and "${" in scalar:
            return self.interpolate(scalar, node.start_mark, loc)
        return scalar

    def interpolate(self, text: str, mark: yaml.Mark, loc: Loc) -> str:
        def replace(found: re.Match[str]) -> str:
            name = found[1]
            if name not in self.env:
                self.problem(mark, loc, f"environment variable {name} is not set")
                self.unset.add(loc)
                return ""
            return self.env[name]

        return _VAR.sub(replace, text)

    def mark_of(self, loc: Loc, key: bool = False) -> yaml.Mark | None:
        if key and (*loc, "__key__") in self.marks:
            return self.marks[(*loc, "__key__")]
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.marks:
                return self.marks[loc[:end]]
        return None


def dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _clean_loc(loc: tuple[int | str, ...]) -> Loc:
    # pydantic adds validator names to locations inside annotated or union types
    return tuple(p for p in loc if isinstance(p, int) or not ("[" in p or p.startswith("function")))


def _cross_checks(data: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Checks between sections: unique names, known rules, an smtp block for email."""
    for section in ("sources", "rules", "subscribers"):
        seen: set[object] = set()
        entries = data.get(section)
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            name = entry.get("name") if isinstance(entry, dict) else None
            if name is not None and name in seen:
                yield (section, i, "name"), f"duplicate name {name!r}"
            seen.add(name)
    rules = data.get("rules")
    known = (
        {r.get("name") for r in rules if isinstance(r, dict)} if isinstance(rules, list) else set()
    )
    subscribers = data.get("subscribers")
    for i, sub in enumerate(subscribers if isinstance(subscribers, list) else []):
        if not isinstance(sub, dict):
            continue
        wanted = sub.get("rules")
        for j, rule in enumerate(wanted if isinstance(wanted, list) else []):
            if rule not in known:
                yield (("subscribers", i, "rules", j), f"unknown rule {rule!r}")
        problem = channel_problem([c for c in CHANNELS if sub.get(c) is not None])
        if problem:
            yield ("subscribers", i), problem
        if "email" in sub and not data.get("smtp"):
            yield ("subscribers", i, "email"), "an email subscriber needs an 'smtp' section"


def parse_config(text: str, path: str, env: Mapping[str, str] | None = None) -> Config:
    reader = _Reader(path, os.environ if env is None else env)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        reader.problem(exc.problem_mark, (), f"invalid YAML: {exc.problem}")
        raise reader.error() from None
    data = reader.value(node, ()) if node is not None else {}
    if not isinstance(data, dict):
        reader.problem(reader.mark_of(()), (), "the configuration must be a mapping of sections")
        raise reader.error()
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = _clean_loc(error["loc"])
            if loc in reader.unset:
                continue
            is_key = error["type"] == "extra_forbidden"
            message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
            reader.problem(reader.mark_of(loc, key=is_key), loc, message)
    for loc, message in _cross_checks(data):
        reader.problem(reader.mark_of(loc), loc, message)
    if reader.problems or config is None:
        raise reader.error()
    return config


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the configuration file; raises ConfigError with every problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}:1:1: (file): cannot read: {exc}"]) from exc
    config = parse_config(text, str(path), env)
    if config.templates and not Path(config.templates).is_absolute():
        # a templates folder is read relative to the configuration file, like a user expects
        folder = Path(path).parent / config.templates
        config = config.model_copy(update={"templates": str(folder)})
    return config
