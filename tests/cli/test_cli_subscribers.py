"""`monitor subscribers` as a user runs it, after a real `run --once` against loopback peers:
channel and target without secrets, rules, cadence, state and last delivery of each subscriber,
some of them from a CSV subscribers file."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.cli import monitor
from tests.support.peers import FeedServer, Resource, WebhookReceiver, rss

TOKEN = "t0ken-in-the-path"
SECRET = "whsec_dG9wLXNlY3JldA=="


def write_config(tmp_path: Path, feed_url: str, hook: str, gone: str) -> Path:
    (tmp_path / "people.csv").write_text(
        "name,email,webhook,secret,rules,digest\n"
        f"ops,,{hook}/hook/{TOKEN}?key={TOKEN},${{HOOK_SECRET}},demarchage|ia,\n"
        "ana,ana@x.ma,,,demarchage,weekly mon 08:00\n"
        f"old,,{gone}/gone,,,\n",
        encoding="utf-8",
    )
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
storage: sqlite:///{tmp_path}/data/monitor.db
timezone: Africa/Casablanca
network:
  allow: [127.0.0.0/8]
  timeout: 5s
smtp:
  host: 127.0.0.1
  port: 1
  security: none
  from: v@x.ma
sources:
  - name: local
    url: {feed_url}
rules:
  - name: demarchage
    any: ["démarchage"]
  - name: ia
    any: ["IA"]
subscribers:
  - name: terminal
    console: true
    digest: daily 08:00
subscribers_file: people.csv
""")
    return path


@pytest.mark.slow
async def test_subscribers_lists_channel_rules_cadence_state_and_last_delivery(
    tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver
) -> None:
    now = datetime.now(UTC)
    feeds.resources["/feed"] = Resource(
        rss(
            [
                {
                    "guid": "1",
                    "title": "Démarchage : la loi",
                    "link": "https://x.ma/1",
                    "published": now,
                },
                {
                    "guid": "2",
                    "title": "L'IA au travail",
                    "link": "https://x.ma/2",
                    "published": now,
                },
            ]
        )
    )
    gone = WebhookReceiver(statuses=[410])
    await gone.start()
    try:
        path = write_config(tmp_path, f"{feeds.url}/feed", receiver.url, gone.url)
        env = {"HOOK_SECRET": SECRET}
        check = await asyncio.to_thread(monitor, "check", "-c", str(path), cwd=tmp_path, env=env)
        assert check.returncode == 0, check.stderr
        assert "4 subscribers" in check.stdout
        run = await asyncio.to_thread(
            monitor, "run", "--once", "-c", str(path), cwd=tmp_path, env=env
        )
        assert run.returncode == 0, run.stderr
    finally:
        await gone.close()
    [delivered] = receiver.accepted()
    assert delivered.path == f"/hook/{TOKEN}"
    assert len(json.loads(delivered.body)["items"]) == 2

    listed = await asyncio.to_thread(monitor, "subscribers", "-c", str(path), cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    terminal, ops, ana, old = listed.stdout.splitlines()
    assert terminal == (
        "terminal: console; all rules; digest: daily 08:00; active; last delivery: never; "
        "pending: 2"
    )
    sent = re.fullmatch(
        r"ops: webhook 127\.0\.0\.1; rules: demarchage, ia; digest: immediate; active; "
        r"last delivery: \d{4}-\d\d-\d\d \d\d:\d\d \+0[01] \(\d+[smh] ago\); pending: 0",
        ops,
    )
    assert sent is not None, ops
    assert ana == (
        "ana: email ana@x.ma; rules: demarchage; digest: weekly mon 08:00; active; "
        "last delivery: never; pending: 1"
    )
    assert old.startswith("old: webhook 127.0.0.1; all rules; digest: immediate; disabled: ")
    assert "410 Gone" in old and old.endswith("; last delivery: never; pending: 2")
    assert TOKEN not in listed.stdout and SECRET not in listed.stdout


@pytest.mark.slow
async def test_subscribers_on_a_fresh_store_and_a_broken_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "https://x.ma/feed", "https://h.example", "https://g.example")
    env = {"HOOK_SECRET": SECRET}
    listed = await asyncio.to_thread(monitor, "subscribers", "-c", str(path), cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    store = tmp_path / "data" / "monitor.db"
    assert listed.stderr.splitlines() == [
        f"monitor: no delivery state yet (no store at {store}: the daemon has not run with "
        "this storage)"
    ]
    assert not store.exists()  # a read-only command creates nothing
    assert [line.split(";")[0] for line in listed.stdout.splitlines()] == [
        "terminal: console",
        "ops: webhook h.example",
        "ana: email ana@x.ma",
        "old: webhook g.example",
    ]
    assert {tuple(line.rsplit("; ", 2)[1:]) for line in listed.stdout.splitlines()} == {
        ("last delivery: never", "pending: 0")
    }
    (tmp_path / "people.csv").write_text("name,email\nterminal,t@x.ma\n", encoding="utf-8")
    broken = await asyncio.to_thread(monitor, "subscribers", "-c", str(path), cwd=tmp_path)
    assert broken.returncode == 2
    assert broken.stderr.splitlines() == [
        f"{tmp_path}/people.csv:2:1: subscribers[0].name: duplicate name 'terminal'"
    ]
