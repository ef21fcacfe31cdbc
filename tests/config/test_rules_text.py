"""Candidate rules read from YAML text (``parse_rules``: ``test-rule --rules`` and the web app's
``/rules/try``): a ``rules:`` section or the list alone, checked against the configuration,
every problem located in the text given, and no ``${VAR}`` read when no environment is given."""

from __future__ import annotations

import pytest

from monitor.config.load import (
    Located,
    RulesError,
    load_config,
    load_rules_file,
    parse_rules,
    rules_text,
)
from monitor.config.model import Config
from tests.support.paths import ROOT

EXAMPLE = ROOT / "config" / "monitor.yaml"

CONFIG = Config.model_validate({
    "sources": [{"name": "eco", "url": "https://eco.ma/feed"}],
    "rules": [{"name": "ia", "any": ["IA"]}],
    "subscribers": [{"name": "s", "console": True}],
})  # fmt: skip


def problems(text: str, env: dict[str, str] | None = None) -> list[Located]:
    with pytest.raises(RulesError) as raised:
        parse_rules(text, "pasted", CONFIG, env={} if env is None else env)
    assert all(line.startswith("pasted:") for line in raised.value.problems)
    return raised.value.located


def test_a_section_or_the_list_alone() -> None:
    listed = parse_rules("- name: a\n  any: [IA]\n", "pasted", CONFIG, env={})
    section = parse_rules("rules:\n  - name: a\n    any: [IA]\n", "pasted", CONFIG, env={})
    assert listed == section and [r.name for r in listed] == ["a"]
    # a candidate may name a rule in force, and refer to one
    both = parse_rules("- name: ia\n  all: [IA, {rule: b}]\n- name: b\n  any: [xyz]\n", "p", CONFIG)
    assert [r.name for r in both] == ["ia", "b"]


def test_problems_of_the_list_alone_are_located_as_in_a_section() -> None:
    text = "- name: a\n  any: [{rule: nope}]\n  sources: [eco, tv]\n- name: a\n  any: [xyz]\n"
    found = problems(text)
    assert found == [
        Located(2, 16, "rules[0].any[0].rule: unknown rule 'nope'"),
        Located(3, 18, "rules[0].sources[1]: unknown source 'tv'"),
        Located(4, 9, "rules[1].name: duplicate name 'a'"),
    ]
    assert problems("rules:\n  - name: a\n    anyy: [IA]\n") == [
        Located(3, 5, "rules[0].anyy: unknown key (did you mean any?)")
    ]


def test_a_yaml_mistake_is_one_line_in_words() -> None:
    (found,) = problems("- name: a\n   any: [IA]\n")
    assert (found.line, found.column) == (2, 7)
    assert found.message.startswith("invalid YAML: a ': ' where no key can start")
    assert "\n" not in found.message  # (the file's message adds the line and a caret)


def test_anything_else_is_refused_at_the_start() -> None:
    for text in ("sources: []\n", "IA\n", ""):
        (found,) = problems(text)
        assert (found.line, found.column) == (1, 1)
        assert found.message.startswith("expected one section, rules: a list of rules")


def test_aliases_that_expand_past_the_cap_are_located() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]"
              for p, c in zip("abcdef", "bcdefg", strict=True)]  # fmt: skip
    (found,) = problems("\n".join(lines) + "\n")
    assert (found.line, found.column) == (1, 1)
    assert found.message == "aliases expand it past 1,000,000 values or 64 levels of nesting"


def test_no_environment_no_secret() -> None:
    (found,) = problems("- name: a\n  any: ['${SECRET}']\n", env={})
    assert found == Located(2, 9, "rules[0].any[0]: environment variable SECRET is not set")
    rules = parse_rules("- name: a\n  any: ['${WORD}']\n", "p", CONFIG, env={"WORD": "IA"})
    assert rules[0].any == ["IA"]


def test_a_rules_file_reads_the_same(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "candidates.yaml"
    path.write_text("- name: a\n  any: [IA]\n")
    assert [r.name for r in load_rules_file(path, CONFIG)] == ["a"]


def test_rules_as_text_read_back_the_same() -> None:
    example = load_config(EXAMPLE)
    text = rules_text(example.rules)
    assert "  label: Démarchage téléphonique\n" in text and "الذكاء الاصطناعي" in text
    assert "fields" not in text.split("- name: ia")[0]  # defaults left out
    assert parse_rules(text, "p", example, env={}) == example.rules
    every = [
        {"name": "a", "label": "Centres d'appels", "any": ["centre* d'appel*", {"term": "AI",
         "case": "sensitive"}], "none": [{"any": ["Rabat"], "all": ["x1", "y2"]}],
         "sources": ["eco"], "languages": ["fr", "ar"], "fields": ["title"]},
        {"name": "b", "all": [{"rule": "a"}, {"near": ["IA", "centre*"], "within": 5}],
         "tags": ["maroc"]},
        {"name": "c", "any": ["'quoted': yes", "# not a comment", "- dash", "{xyz}", "123 mots",
                              "yes"]},
    ]  # fmt: skip
    sources = [{"name": "eco", "url": "https://e.ma/", "tags": ["maroc"]}]
    config = Config.model_validate({"sources": sources, "rules": every})
    assert parse_rules(rules_text(config.rules), "p", config, env={}) == config.rules
