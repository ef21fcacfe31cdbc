"""Every labelled item of the corpora gets exactly the rules a reader expects: the French news
corpus, and the precision cases of word matching (acronyms, plurals, spellings)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from monitor.config.rules import RuleConfig
from monitor.rules.matcher import Matcher
from monitor.rules.spans import find_spans
from monitor.sources.normalize import html_to_text
from tests.support.paths import DATA

CORPORA = {
    name: yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    for name in ("fr-news-labelled.yaml", "rules-extra.yaml")
}
MATCHERS = {
    name: Matcher([RuleConfig.model_validate(rule) for rule in data["rules"]])
    for name, data in CORPORA.items()
}
CASES = [
    pytest.param(name, item, id=f"{name}: {item['title']}")
    for name, data in CORPORA.items()
    for item in data["items"]
]


@pytest.mark.parametrize(
    ("name", "rules", "items"), [("fr-news-labelled.yaml", 6, 30), ("rules-extra.yaml", 20, 50)]
)
def test_corpus_is_loaded(name: str, rules: int, items: int) -> None:
    data = CORPORA[name]
    assert len(data["rules"]) == rules
    assert len(data["items"]) >= items
    titles = [item["title"] for item in data["items"]]
    assert len(titles) == len(set(titles))
    assert all(
        set(item["expect"]) <= {rule["name"] for rule in data["rules"]} for item in data["items"]
    )


@pytest.mark.parametrize(("name", "item"), CASES)
def test_item_gets_exactly_its_expected_rules(name: str, item: dict[str, Any]) -> None:
    fields = {
        "title": html_to_text(item["title"]),
        "summary": html_to_text(item["summary"]),
        "content": "",
    }
    matches = MATCHERS[name].match_fields(fields)
    names = [match.rule for match in matches]
    assert len(names) == len(set(names))
    assert set(names) == set(item["expect"])
    # Reported in configuration order, each with at least one term that made it fire.
    order = [rule["name"] for rule in CORPORA[name]["rules"]]
    assert names == sorted(names, key=order.index)
    assert all(match.terms for match in matches)
    # The terms reported are found again where highlighting looks for them.
    for match in matches:
        assert any(find_spans(text, match.terms) for text in fields.values())
