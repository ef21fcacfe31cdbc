"""Equal parts of many sources held once (monitor.config.shared), without changing a value:
what 100,000 sources cost in memory (issue 25)."""

from __future__ import annotations

import sys
from datetime import timedelta

from monitor.config.load import parse_config
from monitor.config.model import Config
from monitor.core.memory import compact

TEXT = """\
sources:
  - {name: a, url: "https://a.example/feed", tags: [maroc, eco], interval: 10m}
  - {name: b, url: "https://b.example/feed", tags: [maroc], interval: 10m}
  - {name: c, url: "https://c.example/feed"}
  - {name: d, url: "https://d.example/feed"}
  - {name: e, url: "https://e.example/feed", headers: {X-Key: k}}
"""


def loaded() -> Config:
    return parse_config(TEXT, "m.yaml", env={})


def test_equal_parts_are_one_object() -> None:
    a, b, c, d, e = loaded().sources
    assert a.tags[0] is b.tags[0] is sys.intern("maroc")
    assert a.interval is b.interval and a.interval == timedelta(minutes=10)
    assert c.tags is d.tags and c.tags == []
    assert a.headers is c.headers and a.headers == {}
    assert c.model_fields_set is d.model_fields_set == {"name", "url"}
    assert a.model_fields_set is b.model_fields_set
    assert e.headers is not a.headers and list(e.headers) == ["X-Key"]


def test_values_are_those_read() -> None:
    config = loaded()
    dumped = [s.model_dump(exclude_unset=True, mode="json") for s in config.sources]
    assert dumped[0] == {
        "name": "a",
        "url": "https://a.example/feed",
        "tags": ["maroc", "eco"],
        "interval": "PT10M",
    }
    assert dumped[2] == {"name": "c", "url": "https://c.example/feed"}


def test_a_copy_with_changes_leaves_the_others_alone() -> None:
    c, d = loaded().sources[2:4]
    changed = c.model_copy(update={"fetch_article": True})
    assert changed.model_fields_set == {"name", "url", "fetch_article"}
    assert c.model_fields_set == d.model_fields_set == {"name", "url"}


def test_the_daemon_s_compact_copy_keeps_them_shared() -> None:
    copied = compact(loaded())
    a, b, c, d, _ = copied.sources
    assert a.tags[0] is b.tags[0]
    assert c.tags is d.tags and c.model_fields_set is d.model_fields_set
    assert copied == loaded()
