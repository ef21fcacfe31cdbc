"""`monitor subscribers` as a user runs it, after a real `run --once` against loopback peers:
channel and target without secrets, rules, cadence, state and last delivery of each subscriber,
some of them from a CSV subscribers file."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.cli.commands import next_digest
from monitor.config.subscribers import SubscriberConfig
from monitor.store.standing import SubscriberStatus
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
    # the next digest, in the configuration's time zone: terminal's period began at the run
    next_terminal = re.fullmatch(
        r"terminal: console; all rules; digest: daily 08:00; active; last delivery: never; "
        r"next digest: (\d{4}-\d\d-\d\d) 08:00 \+0[01] \((?:\d+[hms]|1d) from now\); pending: 2",
        terminal,
    )
    assert next_terminal is not None, terminal
    sent = re.fullmatch(
        r"ops: webhook 127\.0\.0\.1; rules: demarchage, ia; digest: immediate; active; "
        r"last delivery: \d{4}-\d\d-\d\d \d\d:\d\d \+0[01] \(\d+[smh] ago\); "
        r"next digest: at each match; pending: 0",
        ops,
    )
    assert sent is not None, ops
    next_ana = re.fullmatch(
        r"ana: email ana@x\.ma; rules: demarchage; digest: weekly mon 08:00; active; "
        r"last delivery: never; "
        r"next digest: (\d{4}-\d\d-\d\d) 08:00 \+0[01] \(\d+[dhms] from now\); pending: 1",
        ana,
    )
    assert next_ana is not None, ana
    assert date.fromisoformat(next_ana[1]).weekday() == 0  # a Monday
    assert old.startswith("old: webhook 127.0.0.1; all rules; digest: immediate; disabled: ")
    assert "410 Gone" in old
    assert old.endswith("; last delivery: never; next digest: none; pending: 2")
    assert TOKEN not in listed.stdout and SECRET not in listed.stdout


@pytest.mark.slow
async def test_subscribers_without_a_store_on_a_fresh_one_and_a_broken_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, "https://x.ma/feed", "https://h.example", "https://g.example")
    env = {"HOOK_SECRET": SECRET}
    absent = await asyncio.to_thread(monitor, "subscribers", "-c", str(path), cwd=tmp_path, env=env)
    assert absent.returncode == 3, absent.stderr
    store = tmp_path / "data" / "monitor.db"
    assert absent.stderr.splitlines() == [
        f"monitor: no store at {store} (start the daemon once, or check storage:)"
    ]
    assert not store.exists()  # a read-only command creates nothing
    made = await asyncio.to_thread(monitor, "db", "upgrade", "-c", str(path), cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    listed = await asyncio.to_thread(monitor, "subscribers", "-c", str(path), cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr == ""
    assert [line.split(";")[0] for line in listed.stdout.splitlines()] == [
        "terminal: console",
        "ops: webhook h.example",
        "ana: email ana@x.ma",
        "old: webhook g.example",
    ]
    assert {
        (line.split("; ")[4], line.rsplit("; ", 1)[1]) for line in listed.stdout.splitlines()
    } == {("last delivery: never", "pending: 0")}
    (tmp_path / "people.csv").write_text("name,email\nterminal,t@x.ma\n", encoding="utf-8")
    broken = await asyncio.to_thread(monitor, "subscribers", "-c", str(path), cwd=tmp_path)
    assert broken.returncode == 2
    assert broken.stderr.splitlines() == [
        f"{tmp_path}/people.csv:2:1: subscribers[0].name: duplicate name 'terminal'"
    ]


@pytest.mark.parametrize(
    ("digest", "start", "shown"),
    [
        # the night clocks go forward in Paris: 08:00 the next morning is CEST, 20 h later
        (
            "daily 08:00",
            datetime(2026, 3, 28, 9, tzinfo=UTC),
            "2026-03-29 08:00 CEST (20h from now)",
        ),
        (
            "weekly mon 08:00",
            datetime(2026, 3, 28, 9, tzinfo=UTC),
            "2026-03-30 08:00 CEST (1d from now)",
        ),
        (
            "every 30m",
            datetime(2026, 3, 28, 9, 50, tzinfo=UTC),
            "2026-03-28 11:20 CET (20m from now)",
        ),
        ("every 30m", datetime(2026, 3, 28, 9, tzinfo=UTC), "2026-03-28 10:30 CET (now)"),
        ("every 30m", None, "2026-03-28 11:30 CET (30m from now)"),  # not seen yet: from now on
        ("immediate", None, "at each match"),
    ],
)
def test_the_next_digest_follows_the_schedule_in_the_configured_zone(
    digest: str, start: datetime | None, shown: str
) -> None:
    now = datetime(2026, 3, 28, 10, tzinfo=UTC)
    sub = SubscriberConfig.model_validate({"name": "a", "console": True, "digest": digest})
    status = SubscriberStatus("a", 0, 0, 0, 0, None)
    assert next_digest(sub, status, start, ZoneInfo("Europe/Paris"), now) == shown
    held = SubscriberStatus("a", 0, 0, 0, 0, None, disabled="410 Gone")
    assert next_digest(sub, held, start, ZoneInfo("Europe/Paris"), now) == "none"
