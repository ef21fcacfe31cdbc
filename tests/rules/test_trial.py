"""Rules tried before they are put in force (monitor.rules.trial, shared by ``monitor test-rule``
and the web app's ``/rules/try``): candidates in place of the rules in force, what a changed
rule adds and removes, and each match explained with the field around the term."""

from __future__ import annotations

import pytest

from monitor.config.rules import RuleConfig
from monitor.core.models import Hit, Item, Match
from monitor.rules import trial
from monitor.rules.trial import Explained, excerpt, explain, plan

IN_FORCE = [
    RuleConfig(name="centres", any=["centres d'appels"]),
    RuleConfig(name="ia", any=["IA"], sources=["eco"]),
]


def item(title: str, summary: str = "", source: str = "eco") -> Item:
    return Item(source, title, "https://x.ma/", title, summary, "", None)


def test_candidates_take_the_place_of_the_rules_in_force_of_their_name() -> None:
    candidate = RuleConfig(name="centres", any=["call center*"])
    chosen = plan(IN_FORCE, None, [candidate, RuleConfig(name="neuve", any=["xyz"])])
    assert [r.name for r in chosen.rules] == ["centres", "ia", "neuve"]
    assert chosen.rules[0] is candidate and chosen.shown == ["centres", "neuve"]
    assert chosen.changed
    unchanged = plan(IN_FORCE, None, [])
    assert unchanged.shown == ["centres", "ia"] and not unchanged.changed
    with pytest.raises(ValueError, match="unknown rule: nope"):
        plan(IN_FORCE, ["nope"], [])


def test_what_a_changed_rule_adds_and_removes() -> None:
    candidate = RuleConfig(name="centres", any=["call center*"], none=["Rabat"])
    tester = trial.Tester(IN_FORCE, {"eco": []}, plan(IN_FORCE, None, [candidate]), scoped=True)
    added = tester.test(item("Les call centers à Casablanca"))
    assert added is not None and added.added == ("centres",) and added.removed == ()
    removed = tester.test(item("Les Centres d’appels de Rabat"))
    assert removed is not None and removed.matches == ()
    assert [m.rule for m in removed.removed] == ["centres"]  # explained by the rule in force
    assert removed.removed[0].hits[0].term == "centres d'appels"
    both = tester.test(item("Les call centers", "et les centres d'appels"))
    assert both is not None and both.added == () and both.removed == ()
    assert tester.test(item("Météo")) is None
    assert tester.test(item("IA")) is None  # ia is not a candidate: not shown


def test_the_rules_scopes_apply() -> None:
    tester = trial.Tester(IN_FORCE, {"eco": [], "tv": []}, plan(IN_FORCE, None, []), scoped=True)
    assert tester.test(item("L'IA", source="tv")) is None  # ia: sources [eco]
    found = tester.test(item("L'IA", source="eco"))
    assert found is not None and [m.rule for m in found.matches] == ["ia"]


def test_a_match_explained_with_the_field_around_it() -> None:
    text = "Un   long\ndébut. " * 10 + "Les  Centres\nd’appels recrutent  à\tRabat."
    found = Item("eco", "k", "", "Titre", text, "", None)
    start = text.index("Centres")
    hit = Hit("centres d'appels", "summary", start, start + len("Centres\nd’appels"))
    assert excerpt(found, hit) == "Centres d’appels"
    (why,) = explain(Match("centres", ("centres d'appels",), (hit,)), found, around=20)
    assert why == Explained(
        "centres d'appels", "summary", hit.start, hit.end, "Centres d’appels",
        "…long début. Les ", " recrutent à Rabat.",
    )  # fmt: skip
    (whole,) = explain(Match("centres", ("x",), (hit,)), found, around=len(text))
    assert not whole.before.startswith("…") and not whole.after.endswith("…")
    assert whole.as_json() == {
        "term": "centres d'appels", "field": "summary", "start": hit.start, "end": hit.end,
        "text": "Centres d’appels",
    }  # fmt: skip


def test_needed_is_the_rules_named_and_those_they_refer_to() -> None:
    """A trial compiles only what it compares (the web app's /rules/try): the rules named and
    the rules they refer to, however deep, in the configuration's order."""
    rules = [
        RuleConfig.model_validate(rule)
        for rule in (
            {"name": "a", "any": ["xa"]},
            {"name": "b", "any": [{"rule": "a"}, "yb"]},
            {"name": "c", "all": ["zc"], "none": [{"any": [{"rule": "b"}]}]},
            {"name": "d", "any": ["wd"]},
            {"name": "e", "any": [{"rule": "d"}]},
        )
    ]
    assert [r.name for r in trial.needed(rules, ["c"])] == ["a", "b", "c"]
    assert [r.name for r in trial.needed(rules, ["e", "a"])] == ["a", "d", "e"]
    assert [r.name for r in trial.needed(rules, ["d"])] == ["d"]
    assert trial.needed(rules, ["nope"]) == [] and trial.needed(rules, []) == []
