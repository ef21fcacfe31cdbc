"""The rule language (tests/data/rule-language.yaml): wildcards, exact-case terms, regular
expressions, proximity, groups, rule references and scope, each through the §3.3 folding and
the HTML-to-text step a feed item goes through."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.config.rules import MAX_DEPTH, RuleConfig
from monitor.core.errors import ConfigError
from monitor.core.models import Hit, Item
from monitor.rules.conditions import MAX_HITS
from monitor.rules.matcher import Matcher
from monitor.sources.normalize import html_to_text
from tests.support.paths import DATA

CASES: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "rule-language.yaml").read_text(encoding="utf-8")
)
TAGS = {"leseco": ["maroc"], "medias24": ["maroc"], "lemonde": ["france"], "techcrunch": ["tech"]}


def item(spec: str | dict[str, str]) -> Item:
    """An item as a poll makes it: HTML turned into text."""
    fields = {"title": spec} if isinstance(spec, str) else spec
    return Item(
        fields.get("source", "leseco"),
        "key",
        "https://example.ma/a",
        html_to_text(fields.get("title", "")),
        html_to_text(fields.get("summary", "")),
        html_to_text(fields.get("content", "")),
        None,
    )


def matcher(case: dict[str, Any]) -> Matcher:
    rules = [RuleConfig.model_validate(r) for r in case.get("others", [])]
    rules.append(RuleConfig.model_validate({"name": "tested", **case["rule"]}))
    return Matcher(rules, TAGS)


def fires(case: dict[str, Any], spec: str | dict[str, str]) -> bool:
    return "tested" in [m.rule for m in matcher(case).match(item(spec))]


def test_every_construct_is_covered() -> None:
    assert len(CASES) >= 20
    assert all(case["fires"] for case in CASES)
    text = yaml.safe_dump(CASES)
    for construct in ("near", "rule", "none", "case", "sources", "tags", "*", "/"):
        assert construct in text


@pytest.mark.parametrize(
    ("case", "spec"),
    [pytest.param(c, spec, id=f"{c['case']}: {spec}") for c in CASES for spec in c["fires"]],
)
def test_fires(case: dict[str, Any], spec: str | dict[str, str]) -> None:
    assert fires(case, spec)


@pytest.mark.parametrize(
    ("case", "spec"),
    [pytest.param(c, s, id=f"{c['case']}: {s}") for c in CASES for s in c.get("quiet", [])],
)
def test_stays_quiet(case: dict[str, Any], spec: str | dict[str, str]) -> None:
    assert not fires(case, spec)


@pytest.mark.parametrize("case", [c for c in CASES if "terms" in c], ids=lambda c: c["case"])
def test_explanation_names_the_terms(case: dict[str, Any]) -> None:
    target = item(case["fires"][0])
    (match,) = [m for m in matcher(case).match(target) if m.rule == "tested"]
    assert list(match.terms) == case["terms"]
    fields = target.fields()
    for hit in match.hits:
        assert hit.term in case["terms"]
        assert 0 <= hit.start < hit.end <= len(fields[hit.field])


def test_hits_give_field_and_position_of_each_term() -> None:
    rules = [
        RuleConfig.model_validate(
            {"name": "r", "any": ["centre* d'appel*", "/GPT-?\\d/"], "all": ["Maroc"]}
        )
    ]
    target = Item(
        "s", "k", "", "GPT-5 au Maroc", "Au Maroc, les centres d’appels et GPT4.", "", None
    )
    (match,) = Matcher(rules).match(target)
    assert match.terms == ("centre* d'appel*", "/GPT-?\\d/", "Maroc")
    found = {(h.term, h.field, target.fields()[h.field][h.start : h.end]) for h in match.hits}
    assert found == {
        ("/GPT-?\\d/", "title", "GPT-5"),
        ("Maroc", "title", "Maroc"),
        ("Maroc", "summary", "Maroc"),
        ("centre* d'appel*", "summary", "centres d’appels"),
        ("/GPT-?\\d/", "summary", "GPT4"),
    }
    # text order, field by field
    assert [h.field for h in match.hits] == ["title", "title", "summary", "summary", "summary"]
    assert match.hits[0] == Hit("/GPT-?\\d/", "title", 0, 5)


def test_near_reports_the_window_that_satisfied_it() -> None:
    rule = {"name": "r", "any": [{"near": ["IA", "emploi"], "within": 2}]}
    text = "L'IA ici. Puis beaucoup plus tard encore, l'emploi et l'IA."
    (match,) = Matcher([RuleConfig.model_validate(rule)]).match_fields({"title": text})
    assert [text[h.start : h.end] for h in match.hits] == ["emploi", "IA"]


def test_a_rule_reference_brings_the_referred_rule_hits() -> None:
    rules = [
        RuleConfig.model_validate({"name": "ia", "any": ["IA"]}),
        RuleConfig.model_validate({"name": "r", "all": [{"rule": "ia"}, "Maroc"]}),
    ]
    matches = Matcher(rules).match_fields({"title": "IA au Maroc"})
    assert [(m.rule, m.terms) for m in matches] == [("ia", ("IA",)), ("r", ("IA", "Maroc"))]


def test_a_chain_of_references_is_resolved_innermost_first() -> None:
    rules = [
        RuleConfig.model_validate({"name": "c", "all": [{"rule": "b"}, "Rabat"]}),
        RuleConfig.model_validate({"name": "b", "all": [{"rule": "a"}]}),
        RuleConfig.model_validate({"name": "a", "any": ["IA"]}),
    ]
    m = Matcher(rules)
    assert [x.rule for x in m.match_fields({"title": "IA à Rabat"})] == ["c", "b", "a"]
    assert [x.rule for x in m.match_fields({"title": "Rabat"})] == []


def test_unscoped_matcher_ignores_sources_and_tags() -> None:
    rule = RuleConfig.model_validate({"name": "r", "any": ["IA"], "sources": ["leseco"]})
    assert Matcher([rule], TAGS).match_fields({"title": "IA"}, source="other") == []
    assert Matcher([rule], scoped=False).match_fields({"title": "IA"}, source="other")


@pytest.mark.parametrize(
    "spec",
    [
        {"any": ["IA"]},  # found through AnyRules
        {"all": ["IA", "Maroc"]},  # a flat rule
        {"any": [{"near": ["IA", "Maroc"], "within": 3}]},  # the general plan
    ],
)
def test_tags_checked_at_match_scope_as_tags_resolved_when_built(spec: dict[str, Any]) -> None:
    # store mode (sources_from: store): no source list when the matcher is built; each item
    # comes with its source's tags, and the rules scope as they do with the list
    rules = [
        RuleConfig.model_validate({"name": "tagged", **spec, "tags": ["maroc"]}),
        RuleConfig.model_validate(
            {"name": "both", **spec, "tags": ["tech"], "sources": ["lemonde"]}
        ),
        RuleConfig.model_validate({"name": "all", **spec}),
    ]
    built, at_match = Matcher(rules, TAGS), Matcher(rules, tags_at_match=True)
    for source in (*TAGS, "unknown"):
        found = item({"title": "IA au Maroc", "source": source})
        expected = [m.rule for m in built.match(found)]
        assert [m.rule for m in at_match.match(found, TAGS.get(source, []))] == expected
        assert ("tagged" in expected) == (source in ("leseco", "medias24"))
        assert ("both" in expected) == (source in ("lemonde", "techcrunch"))
    assert [m.rule for m in at_match.match(item("IA au Maroc"))] == ["all"]  # no tags given


def test_catastrophic_pattern_runs_in_linear_time() -> None:
    # (a+)+$ takes exponential time in a backtracking engine on "aaa…b"; RE2 answers at once.
    # No timing here (bench/matching.py measures it): the test would hang without RE2.
    rule = RuleConfig.model_validate({"name": "r", "any": ["/(a+)+$/", "/(x|x)*y/"]})
    hostile = "a" * 50_000 + "b" + "x" * 50_000
    assert Matcher([rule]).match_fields({"title": hostile}) == []
    assert Matcher([rule]).match_fields({"title": hostile + "a"})


def test_wildcards_sharing_a_prefix_form_each_find_their_words() -> None:
    # centre* also stands for "center": both wildcards must see "centers"
    rules = [
        RuleConfig.model_validate({"name": "british", "any": ["centre*"]}),
        RuleConfig.model_validate({"name": "american", "any": ["call center*"]}),
    ]
    matches = Matcher(rules).match_fields({"title": "Call centers"})
    assert [(m.rule, m.terms) for m in matches] == [
        ("british", ("centre*",)),
        ("american", ("call center*",)),
    ]


def test_languages_restrict_a_rule_to_items_detected_in_them() -> None:
    rule = RuleConfig.model_validate(
        {"name": "fr", "any": ["IA", "AI", "intelligence artificielle"], "languages": ["fr"]}
    )
    matcher = Matcher([rule])
    french = {"title": "L'IA bouleverse les centres d'appels marocains", "summary": ""}
    english = {"title": "AI is reshaping Moroccan call centres and their jobs"}
    spanish = {"title": "La IA transforma los centros de llamadas en Marruecos"}
    assert [m.rule for m in matcher.match_fields(french)] == ["fr"]
    assert matcher.match_fields(english) == []
    assert matcher.match_fields(spanish) == []


def test_an_unknown_language_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        RuleConfig.model_validate({"name": "r", "any": ["IA"], "languages": ["fr", "xx"]})


BASE = """\
sources:
  - name: eco
    url: https://leseco.ma/feed/
    tags: [maroc]
rules:
"""


@pytest.mark.parametrize(
    ("rules", "problems"),
    [
        (
            "  - name: a\n    all: [{rule: b}]\n  - name: b\n    any: [{rule: a}, IA]\n",
            ["9:18: rules[1].any[0].rule: rule references form a cycle: a → b → a"],
        ),
        (
            "  - name: a\n    any: [{rule: a}]\n",
            ["7:18: rules[0].any[0].rule: rule references form a cycle: a → a"],
        ),
        (
            "  - name: a\n    any: [{rule: zz}]\n    sources: [eco, tv]\n    tags: [maroc, x]\n",
            [
                "7:18: rules[0].any[0].rule: unknown rule 'zz'",
                "8:20: rules[0].sources[1]: unknown source 'tv'",
                "9:19: rules[0].tags[1]: no source has the tag 'x'",
            ],
        ),
        (
            "  - name: a\n    any: ['/(a)\\1/', '/x/z', 'ce*', 'cen*tre', '//', '!!']\n",
            [
                "7:11: rules[0].any[0]: regular expression '/(a)\\\\1/' cannot be used: invalid "
                "escape sequence: \\1 (RE2 syntax: no back-references or look-around, which "
                "could take exponential time)",
                "7:22: rules[0].any[1]: regular expression '/x/z': unknown or repeated flag 'z'",
                "7:30: rules[0].any[2]: term 'ce*': 'ce*' is too short, a wildcard needs at "
                "least 3 letters before the *",
                "7:37: rules[0].any[3]: term 'cen*tre': a * may only end a word",
                "7:48: rules[0].any[4]: regular expression '//' is empty",
                "7:54: rules[0].any[5]: term '!!' has no letter or digit",
            ],
        ),
        (
            "  - name: a\n    any: ['/.*/', '/(?<=a)b/']\n",
            [
                "7:11: rules[0].any[0]: regular expression '/.*/' matches the empty text",
                "7:19: rules[0].any[1]: regular expression '/(?<=a)b/' cannot be used",
            ],
        ),
        (
            "  - name: a\n    any: [{near: [IA]}, {near: [IA, x], within: -1}, {colour: red}]\n",
            [
                "7:11: rules[0].any[0].within: missing required key",
                "7:18: rules[0].any[0].near: List should have at least 2 items",
                "7:37: rules[0].any[1].near[1]: term 'x' is only 'x'",
                "7:49: rules[0].any[1].within: Input should be greater than or equal to 0",
                "7:54: rules[0].any[2]: expected a term, or a mapping with 'term' (and 'case')",
            ],
        ),
        (
            "  - name: a\n    any: [{term: AI, case: upper}, {term: '/x/', case: sensitive}]\n",
            [
                "7:28: rules[0].any[0].case: Input should be 'sensitive' or 'insensitive'",
                "7:36: rules[0].any[1]: '/x/': 'case' applies to words",
            ],
        ),
        (
            "  - name: a\n    all: [{none: [énergie]}]\n  - name: b\n    any: [IA, {none: [x1]}]\n",
            [
                "6:5: rules[0]: the rule could fire without finding any of its terms",
                "8:5: rules[1]: the rule could fire without finding any of its terms",
            ],
        ),
        (
            "  - name: a\n    any: [{any: []}]\n  - name: b\n    any: [IA]\n"
            "    languages: [fr, klingon]\n",
            [
                "7:11: rules[0].any[0]: a group needs at least one condition",
                "8:5: rules[1]: unknown language 'klingon'",
            ],
        ),
    ],
    ids=[
        "cycle",
        "self",
        "unknown-names",
        "bad-terms",
        "bad-regex",
        "near",
        "case",
        "only-none",
        "group-language",
    ],
)
def test_rule_mistakes_are_config_errors_with_their_lines(rules: str, problems: list[str]) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(BASE + rules, "c.yaml")
    reported = raised.value.problems
    assert len(reported) == len(problems), reported
    for line, problem in zip(reported, problems, strict=True):
        assert line.startswith(f"c.yaml:{problem}"), line


def test_hits_are_bounded_per_term_and_field() -> None:
    rule = RuleConfig.model_validate({"name": "r", "any": ["IA", "robot"]})
    text = "L'IA " * 500 + "un robot"
    (match,) = Matcher([rule]).match_fields({"title": "IA", "content": text})
    counts = Counter((h.term, h.field) for h in match.hits)
    assert counts == {("IA", "title"): 1, ("IA", "content"): MAX_HITS, ("robot", "content"): 1}
    assert match.terms == ("IA", "robot")


def test_rule_references_nest_at_most_max_depth_rules() -> None:
    def chain(length: int) -> str:
        links = "".join(f"  - name: r{i}\n    any: [{{rule: r{i + 1}}}]\n" for i in range(length))
        return f"{links}  - name: r{length}\n    any: [IA]\n"

    deep = chain(MAX_DEPTH + 5)
    with pytest.raises(ConfigError) as raised:
        parse_config(BASE + deep, "c.yaml")
    assert len(raised.value.problems) == 1
    assert (
        f"rule references nest deeper than {MAX_DEPTH} rules: r0 → r1" in (raised.value.problems[0])
    )
    config = parse_config(BASE + chain(MAX_DEPTH - 1), "c.yaml")
    matches = Matcher(config.rules).match_fields({"title": "IA"})
    assert [m.rule for m in matches] == [f"r{i}" for i in range(MAX_DEPTH)]
