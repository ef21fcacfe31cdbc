"""The generators of bench/matching.py stay usable: items and rule sets build, validate and have
the sizes the benchmark reports, and its naive baseline agrees with the matcher where both
should. Nothing here is timed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench.matching import (
    load_config,
    make_items,
    make_rules,
    mix,
    naive_match,
    naive_rules,
    rule_dict,
    user_rules,
    vocabulary,
)
from monitor.config.rules import RuleConfig
from monitor.rules.matcher import Matcher

_, TAGS = load_config()
ITEMS = make_items(400, sources=list(TAGS))


def test_items_look_like_the_press() -> None:
    assert len(ITEMS) == 400
    assert make_items(400, sources=list(TAGS)) == ITEMS  # deterministic
    generated = ITEMS[40:]
    assert 55 <= sum(len(i.title) for i in generated) / len(generated) <= 100
    assert 250 <= sum(len(i.summary) for i in generated) / len(generated) <= 400
    text = " ".join(i.title + " " + i.summary for i in generated)
    assert "’" in text and "«" in text and "é" in text
    assert {i.source for i in ITEMS} == set(TAGS)


@pytest.mark.slow
def test_rule_sets_validate_and_have_their_sizes() -> None:
    assert len(vocabulary()) >= 2000
    assert user_rules()  # config/monitor.yaml, without `languages`
    assert all(rule.languages is None for rule in user_rules())
    rules = make_rules(1_000)
    assert len(rules) == 1_000
    assert make_rules(100) == rules[:100]  # each set holds the smaller ones
    Matcher(rules, tags=TAGS)  # compiles: no dead rule, no dangling reference
    # The 10,000 set: every name, and (validating all takes a second) one rule in ten and
    # every rule with a regex, the only kind of term the smaller sets barely have.
    dicts = [rule_dict(i) for i in range(10_000)]
    assert len({d["name"] for d in dicts}) == 10_000
    assert dicts[:1_000] == [rule_dict(i) for i in range(1_000)]
    sample = [RuleConfig.model_validate(d) for i, d in enumerate(dicts) if i % 10 == 0 or
              any(isinstance(t, str) and t.startswith("/") for t in d.get("any", ()))]  # fmt: skip
    counts = mix(sample)
    assert 0.05 <= counts["wildcard"] / counts["terms"] <= 0.15
    assert 0.02 <= counts["near"] / counts["terms"] <= 0.08
    assert 0.005 <= counts["case"] / counts["terms"] <= 0.04
    assert counts["regex"] == 10  # one rule in 1,000
    assert counts["group"] > 0 and counts["ref"] > 0 and counts["none"] > 0


def test_baseline_agrees_with_the_matcher_on_plain_words() -> None:
    rule = RuleConfig.model_validate(
        {"name": "villes", "any": ["Casablanca", "Rabat", "Tanger", "Agadir", "OCP"]}
    )
    found = [bool(m) for m in map(Matcher([rule], tags=TAGS).match, ITEMS)]
    naive = naive_rules([rule], TAGS)
    assert found == [bool(naive_match(naive, item)) for item in ITEMS]
    assert 0 < sum(found) < len(ITEMS)


def test_baseline_follows_any_all_none_and_scopes() -> None:
    rules = [
        RuleConfig.model_validate(r)
        for r in (
            {"name": "all", "all": ["Maroc", "centres d'appels"]},
            {"name": "none", "any": ["démarchage"], "none": ["énergie"]},
            {"name": "wild", "any": ["externalis*"], "sources": ["leseco"]},
        )
    ]
    naive = naive_rules(rules, TAGS)
    base = replace(ITEMS[0], source="leseco", summary="", content="")

    def fired(title: str, source: str = "leseco") -> list[str]:
        return naive_match(naive, replace(base, title=title, source=source))

    assert fired("Le Maroc et ses centres d’appels") == ["all"]
    assert fired("Démarchage et énergie") == []
    assert fired("Démarchage") == ["none"]
    assert fired("L’externalisation") == ["wild"]
    assert fired("L’externalisation", source="le360") == []
