"""The console script as a user runs it: exit codes and output of each command (DESIGN §3.1)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.cli import monitor
from tests.support.paths import ROOT
from tests.support.peers import FeedServer, Resource, rss

BAD_CONFIG = """\
storage: sqlite:///data/x.db
sources:
  - name: eco
    url: https://leseco.ma/feed/
    interval: 10 minutes
rules:
  - name: ia
    any: ["IA"]
    colour: blue
subscribers:
  - name: terminal
    console: true
    rules: [ia, nope]
"""


@pytest.mark.slow
def test_check_reports_every_mistake_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_CONFIG)
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}:5:15: sources[0].interval: invalid duration '10 minutes': expected a number "
        "and s, m, h or d, like 10m",
        f"{path}:9:5: rules[0].colour: unknown key",
        f"{path}:13:17: subscribers[0].rules[1]: unknown rule 'nope'",
    ]


@pytest.mark.slow
def test_check_locates_a_name_that_is_no_string(tmp_path: Path) -> None:
    """``name: [a]`` or ``sources: [[a]]`` once crashed the cross checks (unhashable type)."""
    path = tmp_path / "odd.yaml"
    path.write_text(
        "storage: sqlite:///data/x.db\nsources:\n  - name: eco\n"
        "    url: https://leseco.ma/feed/\nrules:\n  - name: [a]\n    any: [xy]\n"
        "  - name: b\n    any: [xy]\n    sources: [[eco]]\n"
    )
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"{path}:6:11: rules[0].name: Input should be a valid string",
        f"{path}:10:15: rules[1].sources[0]: Input should be a valid string",
    ]


@pytest.mark.slow
def test_check_accepts_the_example_config_and_env_variable(tmp_path: Path) -> None:
    example = ROOT / "config" / "monitor.yaml"
    result = monitor("check", cwd=tmp_path, env={"MONITOR_CONFIG": str(example)})
    assert result.returncode == 0, result.stderr
    assert "valid: 12 sources, 3 rules, 1 subscriber," in result.stdout


def test_a_missing_configuration_says_how_to_name_one(tmp_path: Path) -> None:
    result = monitor("status", cwd=tmp_path)  # no -c, no $MONITOR_CONFIG, not in the checkout
    assert result.returncode == 2
    assert result.stderr == (
        f"config/monitor.yaml: no such file (in {tmp_path}): name the configuration with -c "
        "PATH or $MONITOR_CONFIG (default: config/monitor.yaml, from the checkout's folder)\n"
    )
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_missing_environment_variable_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "subscribers:\n  - name: ops\n    webhook: https://h.example/x\n"
        "    secret: ${NO_SUCH_SECRET_VAR}\n"
    )
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert "environment variable NO_SUCH_SECRET_VAR is not set" in result.stderr


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    now = datetime.now(UTC)
    server.resources["/feed"] = Resource(
        rss(
            [
                {
                    "guid": "1",
                    "title": "Démarchage : ce qui change",
                    "link": "https://x.ma/1",
                    "published": now - timedelta(hours=1),
                },
                {
                    "guid": "2",
                    "title": "Les centres d’appels et l’IA",
                    "link": "https://x.ma/2",
                    "published": now - timedelta(hours=2),
                },
                {
                    "guid": "3",
                    "title": "Via Internet",
                    "link": "https://x.ma/3",
                    "published": now - timedelta(hours=2),
                },
            ]
        )
    )
    yield server
    await server.close()


def write_config(tmp_path: Path, feed_url: str, subscriber: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
storage: sqlite:///{tmp_path}/data/monitor.db
network:
  allow: [127.0.0.0/8]
  timeout: 5s
defaults:
  interval: 1h
sources:
  - name: local
    url: {feed_url}
rules:
  - name: demarchage
    any: ["démarchage"]
  - name: ia
    any: ["IA"]
subscribers:
{subscriber}
""")
    return path


@pytest.mark.slow
async def test_run_once_prints_console_digest_then_status_and_digest(
    tmp_path: Path, feeds: FeedServer
) -> None:
    path = write_config(
        tmp_path,
        f"{feeds.url}/feed",
        "  - name: terminal\n    console: true\n"
        "  - name: later\n    console: true\n    digest: daily 08:00\n",
    )
    run = await asyncio.to_thread(monitor, "run", "--once", "-c", str(path), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Démarchage : ce qui change" in run.stdout
    assert "Les centres d’appels et l’IA" in run.stdout
    assert "Via Internet" not in run.stdout
    assert "event" not in run.stdout  # logs go to stderr
    assert (
        "poll source=local result=ok status=200 new_items=3 matched_items=2 rule_hits=2"
        in run.stderr
    )

    status = await asyncio.to_thread(monitor, "status", "-c", str(path), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert lines[0].startswith("source local: last poll ")
    assert ", ok 200, new items 3, errors 0, next due " in lines[0]
    # one digest carried both items to terminal; later's wait for 08:00
    assert lines[1] == (
        "subscriber terminal: pending 0, failed 0, dead 0, digests sent 1, items sent 2"
    )
    assert lines[2] == "subscriber later: pending 2, failed 0, dead 0, digests sent 0, items sent 0"

    digest = await asyncio.to_thread(
        monitor, "digest", "--subscriber", "later", "-c", str(path), cwd=tmp_path
    )
    assert digest.returncode == 0, digest.stderr
    assert "Démarchage : ce qui change" in digest.stdout
    html = await asyncio.to_thread(
        monitor,
        "digest",
        "--subscriber",
        "later",
        "--format",
        "html",
        "-c",
        str(path),
        cwd=tmp_path,
    )
    assert html.stdout.lower().startswith("<!doctype html>")
    nothing = await asyncio.to_thread(
        monitor, "digest", "--subscriber", "terminal", "-c", str(path), cwd=tmp_path
    )  # (its one digest went out)
    assert (nothing.returncode, nothing.stdout) == (0, "")
    assert nothing.stderr == "terminal: nothing pending\n"
    assert "Les centres d’appels et l’IA" in re.sub(r"<[^>]+>", "", html.stdout)
    assert "<mark" in html.stdout  # matched terms are highlighted
    again = await asyncio.to_thread(monitor, "status", "-c", str(path), cwd=tmp_path)
    assert "subscriber later: pending 2," in again.stdout  # previewing marked nothing


@pytest.mark.slow
async def test_test_rule_json_reads_a_url_and_a_file(tmp_path: Path, feeds: FeedServer) -> None:
    path = write_config(tmp_path, f"{feeds.url}/feed", "  - name: t\n    console: true\n")
    result = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), f"{feeds.url}/feed", "--json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["title"], x["rules"], x["terms"]) for x in lines] == [
        ("Démarchage : ce qui change", ["demarchage"], {"demarchage": ["démarchage"]}),
        ("Les centres d’appels et l’IA", ["ia"], {"ia": ["IA"]}),
    ]
    assert lines[0]["link"] == "https://x.ma/1" and lines[0]["published"].endswith("Z")
    assert not (tmp_path / "data").exists()  # test-rule reads and writes no state

    file = tmp_path / "feed.xml"
    file.write_bytes(feeds.resources["/feed"].body)
    only = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), str(file), "--rule", "ia", "--json", cwd=tmp_path
    )
    assert [json.loads(line)["rules"] for line in only.stdout.splitlines()] == [["ia"]]
    missing = await asyncio.to_thread(
        monitor, "test-rule", "-c", str(path), str(tmp_path / "nope.xml"), cwd=tmp_path
    )
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr


@pytest.mark.slow
async def test_daemon_stops_cleanly_on_sigterm(tmp_path: Path, feeds: FeedServer) -> None:
    path = write_config(tmp_path, f"{feeds.url}/feed", "  - name: t\n    console: true\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "run",
        "-c",
        str(path),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    seen = b""
    while b"poll source=local" not in seen:  # the first poll is logged
        line = await asyncio.wait_for(process.stderr.readline(), 30)
        assert line, "the daemon exited early"
        seen += line
    process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), 10)
    rest = await process.stderr.read()
    assert code == 0, rest.decode()
    assert b"stop" in rest


@pytest.mark.slow
def test_check_reports_an_unusable_apprise_url_and_a_broken_template(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "digest.txt.j2").write_text("{% for x in %}\n")
    path = tmp_path / "c.yaml"
    path.write_text("templates: tpl\nsubscribers:\n  - name: a\n    apprise: 'nope://x'\n")
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{tmp_path}/tpl/digest.txt.j2:1: ")  # the template, with its line
    path.write_text("subscribers:\n  - name: a\n    apprise: 'nope://x'\n")
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"{path}: subscribers.a.apprise: not a URL Apprise supports")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("storage: !!python/name:os.system\n", "1:10: storage: unknown YAML tag "
         "!!python/name:os.system (no tag is needed here)"),
        ("timezone: UTC\nsources: !include more.yaml\n", "2:10: sources: unknown YAML tag "
         "!include (no tag is needed here)"),
        ("timezone: " + "Africa/" * 1500 + "\n", "1:11: timezone: unknown time zone "
         "'Africa/Africa/Africa/Africa/Africa/Afric'… (10500 characters)"),
    ],
)  # fmt: skip
@pytest.mark.slow
def test_check_reports_a_yaml_tag_or_an_overlong_zone_as_a_config_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert (result.returncode, result.stderr.splitlines()) == (2, [f"{path}:{expected}"])


@pytest.mark.slow
def test_check_refuses_a_configuration_over_10_mb_unread(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with path.open("w") as file:  # no alias anywhere: only its size is wrong
        file.write("sources:\n")
        for n in range(10 * 1024 * 1024 // 40):
            file.write(f"  - {{name: s{n}, url: 'https://x.ma/{n}'}}\n")
    result = monitor("check", "-c", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"{path}: larger than 10 MB: refused, unread\n"


@pytest.mark.slow
@pytest.mark.parametrize(("security", "warned"), [("none", True), ("starttls", False)])
def test_check_warns_of_a_password_that_would_travel_in_clear(
    tmp_path: Path, security: str, warned: bool
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"smtp:\n  host: mail.example.ma\n  security: {security}\n  username: veille\n"
        "  password: ${SMTP_PASSWORD}\n  from: veille@example.ma\n"
    )
    result = monitor("check", "-c", str(path), cwd=tmp_path, env={"SMTP_PASSWORD": "Pw-71e"})
    assert result.returncode == 0, result.stderr
    warning = (
        f"{path}: warning: smtp.security is none: the password would travel in clear to "
        "mail.example.ma:587 (use starttls or ssl)\n"
    )
    assert result.stderr == (warning if warned else "")
    assert "Pw-71e" not in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "where",
    [
        ["-c", "{good}", "check"],
        ["check", "-c", "{good}"],
        ["-c", "{bad}", "check", "-c", "{good}"],
    ],
    ids=["before", "after", "after-wins"],
)
def test_the_config_option_goes_before_or_after_the_command(
    tmp_path: Path, where: list[str]
) -> None:
    good = str(ROOT / "config" / "monitor.yaml")
    bad = str(tmp_path / "missing.yaml")
    argv = [arg.format(good=good, bad=bad) for arg in where]
    result = monitor(*argv, cwd=tmp_path, env={"MONITOR_CONFIG": bad})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{good}: valid:")
