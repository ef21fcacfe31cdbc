"""The demo's bundled data: its configuration has the example's rules, and each headline is
labelled with what those rules say of it (the CLI test relies on the labels)."""

from __future__ import annotations

from pathlib import Path

from monitor.config.load import load_config
from monitor.demo.feeds import OUTLETS, load_headlines
from monitor.demo.run import demo_config, write_config
from monitor.rules.matcher import Matcher
from tests.support.paths import ROOT


def test_the_demo_runs_the_example_rules_on_its_own_site(tmp_path: Path) -> None:
    path = write_config(tmp_path, "http://127.0.0.1:8123")
    config = demo_config(path, every=2.5)
    assert config.rules == load_config(ROOT / "config" / "monitor.yaml").rules
    assert [s.url for s in config.sources] == [
        "http://127.0.0.1:8123" + outlet.feed_path for outlet in OUTLETS
    ]
    assert config.storage == f"sqlite:///{tmp_path}/monitor.db"
    assert [str(n) for n in config.network.allow] == ["127.0.0.0/8"]
    assert config.interval_of(config.sources[0]).total_seconds() == 2.5
    assert [(s.channel, s.digest.kind) for s in config.subscribers] == [("console", "immediate")]


def test_each_headline_says_which_rules_match_it(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "http://127.0.0.1:8123"))
    matcher = Matcher(config.rules, config.source_tags())
    headlines = load_headlines()
    for headline in headlines:
        fields = {"title": headline.title, "summary": headline.summary}
        found = sorted(m.rule for m in matcher.match_fields(fields, headline.feed))
        assert found == sorted(headline.rules), headline.title
    # every outlet publishes some of each, and the feeds start with one of each
    for outlet in OUTLETS:
        own = [h for h in headlines if h.feed == outlet.name]
        assert any(h.rules for h in own) and any(not h.rules for h in own), outlet.name
    started = [h for h in headlines if h.start]
    assert any(h.rules for h in started) and any(not h.rules for h in started)
