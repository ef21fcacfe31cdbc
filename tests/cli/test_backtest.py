"""``monitor test-rule --backtest``: rules run again over the items the store kept, explained,
candidate rules compared with the rules in force; nothing written, nothing sent."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.cli import testrule
from monitor.config.load import load_config
from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.daemon.app import App
from tests.support.cli import monitor
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss
from tests.support.stored import seed_tagged

CONFIG = """\
storage: sqlite:///{tmp}/m.db
network: {{allow: [127.0.0.0/8], timeout: 5s}}
sources:
  - name: eco
    url: {url}/eco
    tags: [maroc]
  - name: tech
    url: {url}/tech
rules:
  - name: ia
    any: ["IA", "intelligence artificielle"]
  - name: centres
    any: ["centres d'appels"]
subscribers:
  - name: ops
    webhook: {hook}/hook
    digest: immediate
"""

CANDIDATES = """\
rules:
  - name: centres
    any: ["centre* d'appel*", "call center*"]
    none: ["Rabat"]
  - name: ia-centres
    all: [{rule: ia}, {near: ["IA", "centre*"], within: 5}]
"""


def entry(n: int, title: str, summary: str, published: datetime) -> dict[str, object]:
    return {
        "guid": f"g{n}",
        "title": title,
        "summary": summary,
        "link": f"https://x.ma/{n}",
        "published": published,
    }


async def seed(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, storage: str | None = None
) -> Path:
    """A store with items seen 10 days ago and 2 days ago, through the real daemon."""
    path = tmp_path / "monitor.yaml"
    text = CONFIG.format(tmp=tmp_path, url=feeds.url, hook=receiver.url)
    if storage is not None:
        text = text.replace(f"storage: sqlite:///{tmp_path}/m.db", f"storage: {storage}")
    path.write_text(text)
    config = load_config(path)
    old = FakeClock(datetime.now(UTC) - timedelta(days=10))
    feeds.resources["/eco"] = Resource(
        rss([entry(1, "L'IA dans les centres d'appels", "Il y a dix jours", old.now)])
    )
    feeds.resources["/tech"] = Resource(rss([]))
    async with App(config, clock=old) as app:
        await app.run_once()
    recent = FakeClock(datetime.now(UTC) - timedelta(days=2))
    eco = [
        entry(2, "Un centre d'appel ouvre à Rabat", "Emplois", recent.now),
        entry(3, "Les call centers adoptent l'IA", "Au Maroc, les centres d'appels", recent.now),
        entry(4, "Météo", "Beau temps", recent.now),
    ]
    feeds.resources["/eco"] = Resource(rss([*eco, entry(1, "x", "y", old.now)]))
    tech = [entry(5, "L'intelligence artificielle et le centre d'appel", "", recent.now)]
    feeds.resources["/tech"] = Resource(rss(tech))
    async with App(config, clock=recent) as app:
        await app.run_once()
    return path


def fingerprint(folder: Path) -> str:
    """The database's bytes, and nothing waiting in a write-ahead log (SQLite may create the
    empty -wal and -shm files any reader of a WAL database needs)."""
    wal = folder / "m.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    return hashlib.sha256((folder / "m.db").read_bytes()).hexdigest()


@pytest.mark.slow
async def test_backtest_explains_the_matches_of_the_window_and_writes_nothing(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    path = await seed(tmp_path, feeds, receiver)
    sent = len(receiver.requests)
    before = fingerprint(tmp_path)
    result = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), "--backtest", "7d", "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = {x["title"]: x for x in map(json.loads, result.stdout.splitlines())}
    # the item seen ten days ago is outside the window; plurals match singulars (§3.3)
    assert {title: x["rules"] for title, x in lines.items()} == {
        "Un centre d'appel ouvre à Rabat": ["centres"],
        "Les call centers adoptent l'IA": ["ia", "centres"],
        "L'intelligence artificielle et le centre d'appel": ["ia", "centres"],
    }
    title, summary = "Les call centers adoptent l'IA", "Au Maroc, les centres d'appels"
    found = lines[title]
    assert found["source"] == "eco" and found["seen"].endswith("Z")
    start = title.index("IA")
    assert found["explain"]["ia"] == [
        {"term": "IA", "field": "title", "start": start, "end": start + 2, "text": "IA"}
    ]
    start = summary.index("centres")
    assert found["explain"]["centres"] == [
        {"term": "centres d'appels", "field": "summary", "start": start, "end": len(summary),
         "text": "centres d'appels"}
    ]  # fmt: skip
    assert fingerprint(tmp_path) == before  # not one byte written
    assert len(receiver.requests) == sent  # nothing sent


@pytest.mark.slow
async def test_candidate_rules_show_what_they_add_and_remove(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    path = await seed(tmp_path, feeds, receiver)
    rules = tmp_path / "candidates.yaml"
    rules.write_text(CANDIDATES)
    result = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), "--backtest", "7d", "--rules", str(rules),
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = {x["title"]: x for x in map(json.loads, result.stdout.splitlines())}
    assert {t: (x["rules"], x["added"], x["removed"]) for t, x in lines.items()} == {
        # the candidate `centres` excludes Rabat: the rule in force matched it
        "Un centre d'appel ouvre à Rabat": ([], [], ["centres"]),
        # the new rule `ia-centres` finds IA near "centers" (centre*, either spelling)
        "Les call centers adoptent l'IA": (["centres", "ia-centres"], ["ia-centres"], []),
        # no "IA" near a centre here: only `centres`, as in force
        "L'intelligence artificielle et le centre d'appel": (["centres"], [], []),
    }

    text = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), "--backtest", "7d", "--rules", str(rules),
        cwd=tmp_path,
    )  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert "  + ia-centres: centre* [title 9-16: «centers»]; IA [title 28-30: «IA»]" in text.stdout
    assert (
        "  centres: call center* [title 4-16: «call centers»]; centre* d'appel* [summ"
        in text.stdout
    )
    assert "  - centres: centres d'appels [title 3-17: «centre d'appel»]" in text.stdout
    assert "centres: 2 items (+0 -1 compared with the rule in force)" in text.stderr
    assert "ia-centres: 1 item (new rule)" in text.stderr
    assert "3 of 4 items shown" in text.stderr


@pytest.mark.slow
async def test_a_changed_rule_that_loses_an_item_says_so(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver, storage: str
) -> None:
    path = await seed(tmp_path, feeds, receiver, storage)  # read-only on either backend
    rules = tmp_path / "stricter.yaml"
    rules.write_text('rules:\n  - name: ia\n    any: ["intelligence artificielle"]\n')
    result = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), "--backtest", "30d", "--rules", str(rules),
        "--json", cwd=tmp_path,
    )  # fmt: skip
    lines = {x["title"]: x for x in map(json.loads, result.stdout.splitlines())}
    assert lines["Les call centers adoptent l'IA"]["removed"] == ["ia"]
    assert lines["L'IA dans les centres d'appels"]["removed"] == ["ia"]  # 10 days ago: in 30d
    assert lines["L'intelligence artificielle et le centre d'appel"]["rules"] == ["ia"]


@pytest.mark.parametrize(
    ("candidates", "problems"),
    [
        (
            "rules:\n  - name: a\n    all: [{rule: b}]\n  - name: b\n    any: [{rule: a}]\n",
            [":5:18: rules[1].any[0].rule: rule references form a cycle: a → b → a"],
        ),
        (
            "rules:\n  - name: a\n    any: [{rule: nope}, IA]\n    sources: [eco, tv]\n",
            [
                ":3:18: rules[0].any[0].rule: unknown rule 'nope'",
                ":4:20: rules[0].sources[1]: unknown source 'tv'",
            ],
        ),
        ("rules:\n  - name: a\n    any: ['/(a)\\1/']\n", [":3:11: rules[0].any[0]: regular"]),
        ("sources: []\n", [":1:1: expected one section, rules"]),
    ],
    ids=["cycle", "unknown-names", "backreference", "not-rules"],
)
@pytest.mark.slow
async def test_a_candidate_file_with_mistakes_is_refused_with_its_lines(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    candidates: str,
    problems: list[str],
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path, url=feeds.url, hook=receiver.url))
    rules = tmp_path / "bad.yaml"
    rules.write_text(candidates)
    result = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), "--backtest", "7d", "--rules", str(rules),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == len(problems), result.stderr
    for line, problem in zip(lines, problems, strict=True):
        assert line.startswith(f"{rules}{problem}")


@pytest.mark.slow
async def test_backtest_without_a_store_says_so(tmp_path: Path, feeds: FeedServer) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path, url=feeds.url, hook="http://127.0.0.1:9"))
    result = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), "--backtest", "7d", cwd=tmp_path
    )
    assert result.returncode == 3
    assert "no store at" in result.stderr
    assert not (tmp_path / "m.db").exists()
    both = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), "x.xml", "--backtest", "7d", cwd=tmp_path
    )
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.slow
async def test_candidate_names_are_unique_and_cycles_through_rules_in_force_are_located(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    path = tmp_path / "monitor.yaml"
    config = CONFIG.replace('    any: ["centres d\'appels"]\n', "    any: [{{rule: ia}}]\n")
    path.write_text(config.format(tmp=tmp_path, url=feeds.url, hook=receiver.url))
    rules = tmp_path / "candidates.yaml"
    rules.write_text(
        "rules:\n  - name: ia\n    any: [{rule: x}]\n  - name: x\n    all: [IA, {rule: centres}]\n"
        "  - name: y\n    any: [IA]\n  - name: y\n    any: [robot]\n"
    )
    result = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), "--backtest", "7d", "--rules", str(rules),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert f"{rules}:8:11: rules[3].name: duplicate name 'y'" in lines
    # the cycle closes in the rule in force `centres`: reported at the list, not at an index
    # the file does not have
    assert any(
        line.startswith(f"{rules}:2:3: rules: rule references form a cycle: ia → x → centres")
        for line in lines
    ), lines
    assert all("rules[4]" not in line for line in lines), lines


async def test_in_store_mode_a_rule_scoped_by_tags_matches_by_the_stored_tags(
    engine: AsyncEngine, storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    await seed_tagged(engine, now, more=testrule.CHUNK)  # the tags read in two chunks
    config = Config(
        storage=storage,
        sources_from="store",
        rules=[
            RuleConfig(name="maroc", any=["IA"], tags=["maroc"]),
            RuleConfig(name="ia", any=["IA"]),
        ],
    )
    done = await testrule.test_rule_command(
        config, None, None, as_json=True, backtest=timedelta(days=7), clock=lambda: now
    )
    assert done == 0
    found = {r["title"]: r["rules"] for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert len(found) == testrule.CHUNK + 2
    assert (found["IA au Maroc"], found["IA ailleurs"]) == (["maroc", "ia"], ["ia"])
