"""Every labelled item of the French news corpus gets exactly the rules a reader expects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config import RuleConfig
from monitor.normalize import html_to_text
from monitor.rules import Matcher

CORPUS = Path(__file__).parent / "data" / "fr-news-labelled.yaml"
DATA: dict[str, Any] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
MATCHER = Matcher([RuleConfig.model_validate(rule) for rule in DATA["rules"]])


def test_corpus_is_loaded() -> None:
    assert len(DATA["rules"]) == 6
    assert len(DATA["items"]) >= 30


@pytest.mark.parametrize("item", DATA["items"], ids=[item["title"] for item in DATA["items"]])
def test_item_gets_exactly_its_expected_rules(item: dict[str, Any]) -> None:
    fields = {
        "title": html_to_text(item["title"]),
        "summary": html_to_text(item["summary"]),
        "content": "",
    }
    matches = MATCHER.match(fields)
    names = [match.rule for match in matches]
    assert len(names) == len(set(names))
    assert set(names) == set(item["expect"])
    # Reported in configuration order, each with at least one term that made it fire.
    order = [rule["name"] for rule in DATA["rules"]]
    assert names == sorted(names, key=order.index)
    assert all(match.terms for match in matches)
