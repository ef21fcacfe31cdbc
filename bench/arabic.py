"""Precision and recall of Arabic matching (issue 21) on the labelled Arabic headlines.

Usage: ``.venv/bin/python -m bench.arabic [--mistakes]``. For the tuning set
(``tests/data/ar-news-labelled.yaml``) and the held-out set written without seeing the matcher
(``tests/data/ar-news-holdout.yaml``), counts every (item, rule) pair: a rule that fires and is
expected is a true positive, one that fires unexpected a false positive, one expected that does
not fire a false negative. Prints precision and recall for each source of "words in their own
right" that keeps a clitic or plural form from being read as a rule's word (monitor.terms.arabic):
none, the rules' own words, the shipped lexicon, both (what the daemon uses); the rules' words
measured once with all the rules together and once with each rule compiled alone (a rule set
rarely holds the look-alike of its words). ``--mistakes`` lists the wrong pairs of the last.
Exit status 0 (it asserts nothing; tests/rules/test_rules_arabic.py checks the figures).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitor.config.rules import RuleConfig
from monitor.rules.matcher import Matcher
from monitor.terms import arabic

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SETS = {"tuning": DATA / "ar-news-labelled.yaml", "held out": DATA / "ar-news-holdout.yaml"}


@dataclass
class Score:
    true: int = 0
    false_positive: int = 0
    false_negative: int = 0
    mistakes: list[str] | None = None

    @property
    def precision(self) -> float:
        found = self.true + self.false_positive
        return self.true / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true + self.false_negative
        return self.true / expected if expected else 1.0

    def count(self, title: str, fired: set[str], expected: set[str]) -> None:
        self.true += len(fired & expected)
        self.false_positive += len(fired - expected)
        self.false_negative += len(expected - fired)
        if self.mistakes is not None:
            self.mistakes += [f"  + {rule}: {title}" for rule in sorted(fired - expected)]
            self.mistakes += [f"  - {rule}: {title}" for rule in sorted(expected - fired)]


def load(path: Path) -> tuple[list[RuleConfig], list[dict[str, Any]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [RuleConfig.model_validate(rule) for rule in data["rules"]], data["items"]


def fired(matcher: Matcher, item: dict[str, Any]) -> set[str]:
    fields = {"title": item["title"], "summary": item.get("summary") or "", "content": ""}
    return {match.rule for match in matcher.match_fields(fields)}


def score(
    rules: Sequence[RuleConfig],
    items: Sequence[dict[str, Any]],
    lexicon: frozenset[str],
    *,
    rule_words: bool,
    alone: bool = False,
    mistakes: bool = False,
) -> Score:
    result = Score(mistakes=[] if mistakes else None)
    if alone:  # each rule compiled on its own (rules it refers to kept beside it)
        matchers = [
            (rule.name, Matcher([rule], lexicon=lexicon, rule_words=rule_words)) for rule in rules
        ]
        for item in items:
            found = {name for name, matcher in matchers if name in fired(matcher, item)}
            result.count(item["title"], found, set(item["expect"]))
        return result
    matcher = Matcher(rules, lexicon=lexicon, rule_words=rule_words)
    for item in items:
        result.count(item["title"], fired(matcher, item), set(item["expect"]))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mistakes", action="store_true", help="list the wrong pairs")
    args = parser.parse_args(argv)
    shipped = arabic.lexicon()
    ways: list[tuple[str, frozenset[str], bool, bool]] = [
        ("nothing", frozenset(), False, False),
        ("rules' words, each rule alone", frozenset(), True, True),
        ("rules' words, all rules", frozenset(), True, False),
        ("lexicon", shipped, False, False),
        ("lexicon + rules' words (daemon)", shipped, True, False),
    ]
    print(f"lexicon: {len(shipped):,} words ({arabic.LEXICON.name})")
    print(f"{'set':<9} {'words in their own right':<32} {'pairs':>5} {'prec.':>6} {'recall':>6}")
    for name, path in SETS.items():
        rules, items = load(path)
        for way, lexicon, rule_words, alone in ways:
            last = way == ways[-1][0]
            result = score(
                rules, items, lexicon, rule_words=rule_words, alone=alone,
                mistakes=args.mistakes and last,
            )  # fmt: skip
            pairs = result.true + result.false_negative
            print(f"{name:<9} {way:<32} {pairs:>5} {result.precision:>6.3f} {result.recall:>6.3f}")
            if result.mistakes:
                print("\n".join(result.mistakes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
