"""The fast ways of matching a rule (monitor.rules.plans: the term index, the flat loop) give
exactly what evaluating every rule condition by condition gives: same rules, same terms, same
hits in the same order."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from bench.matching import load_config, make_items, make_rules
from monitor.config.rules import RuleConfig
from monitor.core.models import Item, Match
from monitor.rules.matcher import Matcher
from monitor.rules.plans import explained

_, TAGS = load_config()


def by_conditions(matcher: Matcher, rules: list[RuleConfig], item: Item) -> list[Match]:
    """Every rule evaluated through its conditions, the slow and obvious way."""
    found = matcher.terms(item)
    matches = []
    for position, rule in enumerate(rules):
        hits = matcher.evaluate(position, found)
        if hits is not None:
            matches.append(explained(rule.name, hits))
    return matches


def rule(name: str, **lists: object) -> RuleConfig:
    return RuleConfig.model_validate({"name": name, **lists})


EDGES = [
    rule("title-only", any=["IA", "robot"], fields=["title"]),
    rule("unknown-tag", any=["IA"], tags=["nowhere"]),
    rule("other-source", any=["IA"], sources=["nowhere"]),
    rule("one-source", any=["IA", "emploi"], sources=["leseco"]),
    rule("none-elsewhere", any=["IA"], none=["jeu"], fields=["title"]),
    rule("none", any=["IA", "emploi"], none=["jeu"]),
    rule("several", any=["emploi", "IA", "centres d'appels", "IA"]),
    rule("twice-near", any=[{"near": ["IA", "IA"], "within": 5}, "robot"]),
    rule("near-first", any=[{"near": ["emploi", "IA"], "within": 3}, "IA"]),
    rule("all", all=["IA", {"near": ["emploi", "IA"], "within": 8}]),
    rule("ref", all=[{"rule": "several"}, "emploi"]),
    rule("exact", any=[{"term": "IA", "case": "sensitive"}, "centre*"]),
]
TEXTS = [
    ("L’IA menace l’emploi dans les centres d’appels", "Un jeu d’IA, et l’emploi ? IA."),
    ("Le jeu des robots", "L’IA et l’IA générative : emploi, Centres d’appels"),
    ("ia et emploi", "IA IA IA emploi jeu"),
    ("Centres d'appels", "centre, centres et centraux ; IA"),
]


@pytest.mark.parametrize("source", ["leseco", "medias24", "other"])
def test_edge_rules_match_as_their_conditions_say(source: str) -> None:
    matcher = Matcher(EDGES, tags={"leseco": ["maroc"], "medias24": []})
    fired: set[str] = set()
    for title, summary in TEXTS + [(b, a) for a, b in TEXTS]:
        item = Item(source, "", "", title, summary, "", None)
        matches = matcher.match(item)
        assert matches == by_conditions(matcher, EDGES, item), (title, summary)
        fired.update(m.rule for m in matches)
    assert "unknown-tag" not in fired
    assert "other-source" not in fired
    assert ("one-source" in fired) == (source == "leseco")
    assert {"title-only", "none", "several", "twice-near", "near-first", "all", "ref"} <= fired


@pytest.mark.slow
def test_generated_rule_sets_match_as_their_conditions_say() -> None:
    rules = make_rules(1000)
    matcher = Matcher(rules, tags=TAGS)
    rng = random.Random(5)
    items = make_items(300, sources=list(TAGS))
    items += [replace(item, source=rng.choice(["leseco", "unknown"])) for item in items[:100]]
    fired = 0
    for item in items:
        matches = matcher.match(item)
        assert matches == by_conditions(matcher, rules, item), item.title
        fired += len(matches)
    assert fired > 2000
