"""One redaction for every URL shown, and no terminal control characters in what is printed
(issue 19 §4): ``monitor.core.redact`` on its own, in the log formats, and along the whole path of
a ``kind: auto`` source whose page has no feed (its error reaches ``monitor status``, the logs
and the health notices by webhook, email and console)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.config.load import load_config
from monitor.core.logs import LOGGER, JsonFormatter, KeyValueFormatter
from monitor.core.redact import printable, redact, redact_url, remember_secret, secret_name
from monitor.daemon.app import App
from tests.support.peers import FakeClock, FeedServer, Resource, SmtpSink, WebhookReceiver, rss

PATH_TOKEN = "PathTok-4f1e9a"  # given as ${FEED_TOKEN}
HOST_PART = "tenant-7c21d"  # given as ${TENANT}
QUERY_TOKEN = "QueryTok-8b2c5"  # written in the URL, after ?token=
ENV = {"FEED_TOKEN": PATH_TOKEN, "TENANT": HOST_PART}


@pytest.fixture(autouse=True)
def known_secrets() -> None:
    """What the configuration loader tells the redactor of every ``${VAR}`` it replaces."""
    for value in ENV.values():
        remember_secret(value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # userinfo, whatever the scheme
        ("https://user:pw@h.example/f", "https://***@h.example/f"),
        ("postgresql://monitor:pw@db/monitor", "postgresql://***@db/monitor"),
        # query values whose name says secret
        (
            "postgresql://monitor@db/monitor?password=pw&sslmode=require",
            "postgresql://***@db/monitor?password=***&sslmode=require",
        ),
        (
            "https://h.example/f?token=a&key=b&secret=c&auth=d&sig=e&signature=f",
            "https://h.example/f?token=***&key=***&secret=***&auth=***&sig=***&signature=***",
        ),
        (
            "https://h.example/f?api_key=a&access_token=b&apiKey=c&X-Amz-Signature=d&client_secret=e",
            "https://h.example/f?api_key=***&access_token=***&apiKey=***&X-Amz-Signature=***"
            "&client_secret=***",
        ),
        (
            "https://h.example/f?auth_token=a;passwd=b#top",
            "https://h.example/f?auth_token=***;passwd=***#top",
        ),
        ("https://h.example/f?secret", "https://h.example/f?***"),  # a bare value: no name
        # other query values stay readable
        (
            "https://news.google.com/rss/search?q=centres+d%27appels&hl=fr&gl=MA&ceid=MA:fr",
            "https://news.google.com/rss/search?q=centres+d%27appels&hl=fr&gl=MA&ceid=MA:fr",
        ),
        (
            "https://h.example/?feed=rss2&author=moi&page=2",
            "https://h.example/?feed=rss2&author=moi&page=2",
        ),
        # a ${VAR} value, wherever it sits
        (f"https://h.example/feeds/{PATH_TOKEN}/rss", "https://h.example/feeds/***/rss"),
        (f"https://{HOST_PART}.example/rss", "https://***.example/rss"),
        (f"https://h.example/rss?id={PATH_TOKEN}", "https://h.example/rss?id=***"),
        ("https://h.example/a/b", "https://h.example/a/b"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact(f"see {url}, then") == f"see {expected}, then"  # found in text too


def test_a_secret_is_hidden_in_any_text_and_in_its_url_encoded_form() -> None:
    remember_secret("p@ss word/1")
    assert redact("failed with p@ss word/1 at h") == "failed with *** at h"
    assert redact_url("https://h.example/x/p%40ss%20word%2F1/") == "https://h.example/x/***/"
    remember_secret("on")  # too short to hunt in text: it would cut words everywhere
    assert redact("one token") == "one token"


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("token", True),
        ("Access_Token", True),
        ("hmac_key", True),
        ("sessionid", True),
        ("q", False),
        ("feed", False),
        ("author", False),
        ("keyword", False),
        ("design", False),
    ],
)
def test_secret_name(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title \x1b[2J\x1b]0;owned\x07 end", "title \\x1b[2J\\x1b]0;owned\\x07 end"),
        ("a\r\nb\tc", "a\\r\\nb\\tc"),
        ("csi \x9b31m del \x7f nul \x00", "csi \\x9b31m del \\x7f nul \\x00"),
        ("rtl \u202etxt.exe \u2028 line", "rtl \\u202etxt.exe \\u2028 line"),
        ("démarchage « IA » – ok", "démarchage « IA » – ok"),
    ],
)
def test_printable(text: str, expected: str) -> None:
    assert printable(text) == expected


def test_printable_lines_keeps_line_feeds_and_tabs() -> None:
    assert printable("a\n\tb\x1b[0m\r", lines=True) == "a\n\tb\\x1b[0m\\r"


def record(message: str, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("monitor", logging.WARNING, __file__, 1, message, None, None)
    made.fields = fields
    return made


def test_a_text_log_line_is_one_line_without_control_characters_or_secrets() -> None:
    error = f"robots.txt lists http://h/{PATH_TOKEN}/s.xml\x1b[2J\nforged=line"
    line = KeyValueFormatter().format(record("poll\x1b[31m", source="s", error=error))
    assert "\n" not in line and "\x1b" not in line
    assert PATH_TOKEN not in line
    assert line.endswith(
        'warning poll\\x1b[31m source=s error="robots.txt lists http://h/***/s.xml\\x1b[2J'
        '\\nforged=line"'
    )


def test_a_json_log_line_escapes_what_json_leaves_raw() -> None:
    line = JsonFormatter().format(record("poll", error="csi \x9b2J del \x7f rtl \u202e"))
    assert not any(c in line for c in "\x9b\x7f\u202e")
    assert json.loads(line)["error"] == "csi \x9b2J del \x7f rtl \u202e"  # escaped, not lost


# --- a kind: auto source without a feed, through the whole daemon -----------------------------


@pytest.fixture
def mail() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = sink.start()
    yield sink, port
    sink.stop()


def auto_source_config(tmp_path: Path, page: str, hooks: str, smtp_port: int) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"storage: sqlite:///{tmp_path}/monitor.db\n"
        "network:\n  allow: [127.0.0.0/8]\n  timeout: 5s\n"
        "defaults:\n  health_after: 1h\n"
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n  security: none\n  from: v@x.ma\n"
        f"sources:\n  - name: site\n    kind: auto\n    url: {page}\n"
        "rules:\n  - name: r\n    any: [démarchage]\n"
        "subscribers:\n"
        f"  - name: hook\n    webhook: {hooks}/hook\n    health: true\n"
        "  - name: mail\n    email: ops@x.ma\n    health: true\n"
        "  - name: term\n    console: true\n    health: true\n",
        encoding="utf-8",
    )
    return path


def log_to(stream: io.StringIO, formatter: logging.Formatter) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    return handler


@pytest.mark.slow
async def test_an_auto_source_without_a_feed_shows_its_url_redacted_everywhere(
    tmp_path: Path,
    feeds: FeedServer,
    receiver: WebhookReceiver,
    mail: tuple[SmtpSink, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sink, smtp_port = mail
    feeds.resources[f"/feeds/{PATH_TOKEN}/"] = Resource(
        b"<html><body>Accueil</body></html>", "text/html"
    )
    # a hostile robots.txt: escapes that would clear the screen and retitle the terminal
    robots = b"Sitemap: /news.xml\x1b[2J\x1b]0;owned\x07\n"
    feeds.resources["/robots.txt"] = Resource(robots, "text/plain")
    page = f"{feeds.url}/feeds/${{FEED_TOKEN}}/?q=maroc&token={QUERY_TOKEN}"
    path = auto_source_config(tmp_path, page, receiver.url, smtp_port)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    config = load_config(path)
    text_log, json_log = io.StringIO(), io.StringIO()
    handlers = [log_to(text_log, KeyValueFormatter()), log_to(json_log, JsonFormatter())]
    level = LOGGER.level
    LOGGER.setLevel(logging.DEBUG)
    for handler in handlers:
        LOGGER.addHandler(handler)
    console, clock = io.StringIO(), FakeClock()
    try:
        async with App(config, clock=clock, stdout=console) as app:
            await app.run_once()
            clock.advance(timedelta(hours=1))
            await app.run_once()  # failing for health_after: the notice goes out
            state = (await app.store.states(["site"]))["site"]
    finally:
        for handler in handlers:
            LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)
    assert feeds.hits[f"/feeds/{PATH_TOKEN}/"] == 2 and feeds.hits["/robots.txt"] == 2
    capsys.readouterr()
    assert await asyncio.to_thread(main, ["status", "-c", str(path)]) == 0  # the real command
    status = capsys.readouterr().out

    shown_page = f"{feeds.url}/feeds/***/?q=maroc&token=***"
    assert state.last_error is not None
    assert state.last_error.startswith(f"no feed found for {shown_page}: none of the")
    assert "(robots.txt lists " + feeds.url + "/news.xml\\x1b[2J\\x1b]0;owned\\x07)" in status
    assert f"error: no feed found for {shown_page}" in status
    hooks = [json.loads(r.body) for r in receiver.accepted()]
    titles = [item["title"] for body in hooks for item in body["items"]]
    assert len(titles) == 1 and shown_page in titles[0]
    assert len(sink.messages) == 1
    html = sink.messages[0].get_body(("html",))
    assert html is not None and shown_page.replace("&", "&amp;") in html.get_content()
    assert shown_page in console.getvalue()
    assert shown_page in text_log.getvalue()
    everything = [
        status,
        state.last_error,
        *(r.body.decode() for r in receiver.accepted()),
        *(
            part.get_content()
            for m in sink.messages
            for part in m.walk()
            if not part.is_multipart()
        ),
        *(str(m["Subject"]) for m in sink.messages),
        console.getvalue(),
        text_log.getvalue(),
        json_log.getvalue(),
    ]
    for text in everything:
        assert PATH_TOKEN not in text and QUERY_TOKEN not in text
        assert "\x1b" not in text and "\x07" not in text


@pytest.mark.slow
def test_the_storage_url_is_shown_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DB_PASS", "DbPass-e71a")
    path = tmp_path / "m.yaml"
    path.write_text("storage: postgresql://monitor@127.0.0.1:9/x?password=${DB_PASS}\n")
    assert main(["check", "-c", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "storage postgresql://***@127.0.0.1:9/x?password=***" in out
    # status and run cannot reach that server: the storage failure names it, redacted
    assert main(["status", "-c", str(path)]) == 3
    out, err = capsys.readouterr()
    assert "storage postgresql://***@127.0.0.1:9/x?password=***" in err
    assert "DbPass-e71a" not in out + err
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--once", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DB_PASS": "DbPass-e71a"},
        check=False,
    )
    assert run.returncode == 3, run.stderr
    assert "127.0.0.1:9/x?password=***" in run.stderr
    assert "DbPass-e71a" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    "storage",
    [
        "postgresql://monitor:LiteralPw-5@127.0.0.1:9/x",
        "postgresql://monitor@127.0.0.1:9/x?password=LiteralPw-5",
    ],
)
def test_a_password_written_in_the_storage_url_is_not_printed_either(
    tmp_path: Path, storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"storage: {storage}\n")
    assert main(["check", "-c", str(path)]) == 0
    assert main(["status", "-c", str(path)]) == 3
    out, err = capsys.readouterr()
    assert "127.0.0.1:9/x" in out and "LiteralPw-5" not in out + err


@pytest.mark.slow
@pytest.mark.parametrize("as_json", [False, True])
def test_test_rule_prints_a_feed_s_control_characters_escaped(
    tmp_path: Path, as_json: bool
) -> None:
    feed = tmp_path / "feed.xml"
    title = "Le démarchage \x7f interdit \u202egpj.exe"
    feed.write_bytes(rss([{"guid": "1", "title": title, "link": "https://x.ma/1"}]))
    path = tmp_path / "m.yaml"
    path.write_text("rules:\n  - name: r\n    any: [démarchage]\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "test-rule", "-c", str(path), str(feed)]
        + (["--json"] if as_json else []),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert not any(c in run.stdout for c in "\x7f\u202e")
    if as_json:
        assert json.loads(run.stdout)["title"] == title  # escaped, not lost
    else:
        assert run.stdout.startswith("Le démarchage \\x7f interdit \\u202egpj.exe\n")
