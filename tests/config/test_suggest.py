"""Did-you-mean in configuration errors (monitor.config.suggest): an unknown key or name
suggests the closest known one, and only a close one."""

from __future__ import annotations

import pytest

from monitor.config.load import parse_config
from monitor.config.model import Config
from monitor.config.schedule import parse_schedule
from monitor.config.suggest import keys_at, suggestion
from monitor.core.errors import ConfigError


@pytest.mark.parametrize(
    ("word", "known", "said"),
    [
        ("intervall", ["interval", "timeout"], " (did you mean interval?)"),
        ("centre-appels", ["centres-appels", "ia"], " (did you mean centres-appels?)"),
        ("colour", ["name", "any", "all", "none"], ""),  # nothing close: nothing suggested
        ("ia", ["ia"], ""),  # (not itself)
        (3, ["3"], ""),
    ],
)
def test_suggestion(word: object, known: list[str], said: str) -> None:
    assert suggestion(word, known) == said


def test_keys_at_follow_lists_and_optional_sections() -> None:
    assert {"interval", "backfill"} <= keys_at(Config, ("defaults",))
    assert {"name", "any", "languages"} <= keys_at(Config, ("rules", 0))
    assert {"name", "console", "language", "digest"} <= keys_at(Config, ("subscribers", 3))
    assert {"host", "port", "from"} <= keys_at(Config, ("smtp",))  # an alias, as written


CONFIG = """\
defaults:
  intervall: 10m
sources:
  - name: leseco
    url: https://leseco.ma/feed/
    tags: [maroc]
    intervl: 5m
rules:
  - name: centres-appels
    any: ["centres d'appels"]
  - name: ia
    any: ["IA"]
    sources: [lesceo]
    tags: [maroq]
    all: [{rule: centre-appels}]
subscribers:
  - name: terminal
    console: true
    rules: [centre-appels, ia]
    langage: fr
    digest: every day at 8
"""


def test_unknown_keys_and_names_say_what_was_meant() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(CONFIG, "m.yaml", env={})
    assert caught.value.problems == [
        "m.yaml:2:3: defaults.intervall: unknown key (did you mean interval?)",
        "m.yaml:7:5: sources[0].intervl: unknown key (did you mean interval?)",
        "m.yaml:13:15: rules[1].sources[0]: unknown source 'lesceo' (did you mean leseco?)",
        "m.yaml:14:12: rules[1].tags[0]: no source has the tag 'maroq' (did you mean maroc?)",
        "m.yaml:15:18: rules[1].all[0].rule: unknown rule 'centre-appels' "
        "(did you mean centres-appels?)",
        "m.yaml:19:13: subscribers[0].rules[0]: unknown rule 'centre-appels' "
        "(did you mean centres-appels?)",
        "m.yaml:20:5: subscribers[0].langage: unknown key (did you mean language?)",
        "m.yaml:21:13: subscribers[0].digest: invalid digest schedule 'every day at 8' "
        "(invalid duration 'day at 8': expected a number and s, m, h or d, like 10m): "
        "expected immediate, every 30m, daily 08:00 or weekly mon 08:00",
    ]


@pytest.mark.parametrize("text", ["every day at 8", "dayly 08:00", "weekly monday 8h"])
def test_a_schedule_error_lists_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected immediate, every 30m, daily 08:00 or weekly"):
        parse_schedule(text)
