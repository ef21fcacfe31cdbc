"""Secrets never reach logs, output or error messages, at any log level (issue 3, K1).

Canaries: an SMTP password, and a source or webhook URL carrying credentials in its userinfo and
query. Every failure path runs at DEBUG with every log record kept (the ``monitor`` logger, the
root logger, aiohttp, asyncio, aiosmtplib), along with stdout, stderr, the errors the daemon
records and the tracebacks of the exceptions raised. None may contain a canary, nor the base64
forms that SMTP AUTH (PLAIN, LOGIN) and HTTP Basic auth put on the wire.
"""

from __future__ import annotations

import base64
import io
import logging
import socket
import sys
import traceback
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.cli.main import main
from monitor.cli.status import status_command
from monitor.config.load import load_config, parse_config
from monitor.config.sections import NetworkConfig, SmtpConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core import logs
from monitor.core.errors import ConfigError, FetchError, NotifyError
from monitor.core.models import Digest, DigestItem
from monitor.core.redact import redact
from monitor.daemon.app import App
from monitor.digest.render import Renderer
from monitor.net.http import HttpClient
from monitor.notifiers import NotifierContext, build_notifier
from tests.support.daemon import build_config
from tests.support.peers import FakeClock, LoopbackController, rss

PASSWORD = "CanaryPw-93f1c2"
USER = "veille"
URL_PASSWORD = "CanaryUrl-77"
URL_TOKEN = "CanaryTok-55"
CREDS = f"user:{URL_PASSWORD}@"
QUERY = f"?token={URL_TOKEN}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


CANARIES = [
    PASSWORD,
    URL_PASSWORD,
    URL_TOKEN,
    _b64(PASSWORD.encode()),  # AUTH LOGIN
    _b64(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()),  # AUTH PLAIN
    _b64(f"user:{URL_PASSWORD}".encode()),  # HTTP Basic, from the URL's userinfo
]
# Loggers of the loopback peers (aiosmtpd, the aiohttp servers), not of the daemon.
PEER_LOGGERS = ("mail.log", "aiohttp.access", "aiohttp.server", "aiohttp.web")


def leaks(*texts: object) -> list[str]:
    """The canaries (in any of their forms) found in ``texts``."""
    joined = "\n".join(str(t) for t in texts)
    return [canary for canary in CANARIES if canary in joined]


def shown(exc: BaseException) -> str:
    """All a traceback of ``exc`` shows: messages and chained causes included."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args)


class Keep(logging.Handler):
    """Keeps every record as text: message, structured fields and traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(PEER_LOGGERS):
            return
        fields = getattr(record, "fields", {})
        self.lines.append(f"{self.format(record)} {fields!r} {record.args!r}")


class CurrentStderr:
    """Whatever sys.stderr is when written to: capsys swaps it between setup and call."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@pytest.fixture
def kept(capsys: pytest.CaptureFixture[str]) -> Iterator[Keep]:
    """Every log record at DEBUG; the daemon's own handler writes to the captured stderr."""
    keep = Keep()
    names = ("monitor", "aiohttp", "asyncio", "aiosmtplib")
    loggers = [logging.getLogger(name) for name in names]
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    logs.setup("DEBUG")  # the daemon's handler, on the (captured) stderr
    daemon_handler = logs.LOGGER.handlers[0]
    assert isinstance(daemon_handler, logging.StreamHandler)
    daemon_handler.setStream(CurrentStderr())
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(keep)
    logs.LOGGER.addHandler(keep)  # setup() stops propagation: listen there too
    yield keep
    logging.getLogger().removeHandler(keep)
    for logger, level, propagate, handlers in saved:
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers


def free_port() -> int:
    with socket.socket() as probe:  # free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- peers -----------------------------------------------------------------------------------


class Web:
    """Feeds and webhook endpoints that fail in every way a URL with credentials can."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_get("/ok", self.ok)
        self.app.router.add_get("/loop", self.loop)
        self.app.router.add_get("/nonhttp", self.nonhttp)
        self.app.router.add_post("/hook500", self.status(500))
        self.app.router.add_post("/hook410", self.status(410))
        self.app.router.add_post("/hookredirect", self.redirect)
        self.runner = web.AppRunner(self.app)
        self.base = ""
        self.authority = ""

    async def start(self) -> None:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.authority = f"127.0.0.1:{port}"
        self.base = f"http://{CREDS}{self.authority}"

    async def ok(self, request: web.Request) -> web.Response:
        clock = FakeClock()
        item = {
            "guid": "1",
            "title": "Le démarchage encadré",
            "link": "https://x.ma/1",
            "published": clock.now,
        }
        return web.Response(body=rss([item]), content_type="application/rss+xml")

    async def loop(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"/loop{QUERY}")

    async def nonhttp(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"ftp://{CREDS}x.example/{QUERY}")

    async def redirect(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{self.base}/elsewhere{QUERY}")

    @staticmethod
    def status(code: int) -> Any:
        async def answer(request: web.Request) -> web.Response:
            return web.Response(status=code, text=f"no {URL_TOKEN}")  # a body that echoes

        return answer


@pytest.fixture
async def peer() -> AsyncIterator[Web]:
    server = Web()
    await server.start()
    yield server
    await server.runner.cleanup()


class Accepting:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def reject(echo: bool) -> Any:
    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        if not echo:
            return AuthResult(success=False, handled=False)
        # a hostile or buggy server that quotes what it was sent
        said = data.password.decode()
        message = f"535 5.7.8 bad password {said} {_b64(data.password)} {CANARIES[4]}"
        return AuthResult(success=False, handled=False, message=message)

    return authenticate


SMTP_CASES = {  # name -> (server options, or None for a closed port; security)
    "auth-rejected": ({"authenticator": reject(False), "auth_require_tls": False}, "none"),
    "auth-rejected-echo": ({"authenticator": reject(True), "auth_require_tls": False}, "none"),
    "auth-plain-only-echo": (
        {
            "authenticator": reject(True),
            "auth_require_tls": False,
            "auth_exclude_mechanism": ["LOGIN"],
        },
        "none",
    ),
    "starttls-missing": ({"authenticator": reject(False), "auth_require_tls": False}, "starttls"),
    "ssl-on-plain": ({}, "ssl"),
    "refused": (None, "none"),
}


@pytest.fixture(params=sorted(SMTP_CASES))
def smtp_case(request: pytest.FixtureRequest) -> Iterator[tuple[int, str]]:
    options, security = SMTP_CASES[request.param]
    if options is None:
        yield free_port(), security
        return
    controller = LoopbackController(Accepting(), hostname="127.0.0.1", port=0, **options)
    controller.start()
    try:
        yield int(controller.port), security
    finally:
        controller.stop()


# --- the whole daemon ------------------------------------------------------------------------


@pytest.mark.slow
async def test_every_failure_of_a_run_keeps_the_secrets(
    tmp_path: Path,
    peer: Web,
    smtp_case: tuple[int, str],
    kept: Keep,
    capsys: pytest.CaptureFixture[str],
) -> None:
    smtp_port, security = smtp_case
    closed = free_port()
    sources = {
        "ok": f"{peer.base}/ok{QUERY}",
        "dns": f"http://{CREDS}nohost.invalid/feed{QUERY}",
        "refused": f"http://{CREDS}127.0.0.1:{closed}/feed{QUERY}",
        "missing": f"{peer.base}/missing{QUERY}",
        "inside": f"http://{CREDS}127.0.0.2:{closed}/feed{QUERY}",
        "loop": f"{peer.base}/loop{QUERY}",
        "nonhttp": f"{peer.base}/nonhttp{QUERY}",
    }
    hooks = {
        "h500": f"{peer.base}/hook500{QUERY}",
        "h410": f"{peer.base}/hook410{QUERY}",
        "hredirect": f"{peer.base}/hookredirect{QUERY}",
        "hrefused": f"http://{CREDS}127.0.0.1:{closed}/hook{QUERY}",
        "hinside": f"http://{CREDS}127.0.0.2:{closed}/hook{QUERY}",
    }
    subscribers = "".join(
        f"  - name: {name}\n    webhook: {url}\n    digest: immediate\n"
        for name, url in hooks.items()
    )
    subscribers += "  - name: mail\n    email: analyste@example.ma\n    digest: immediate\n"
    smtp = (
        f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n  security: {security}\n"
        f"  username: {USER}\n  password: {PASSWORD}\n  timeout: 5s\n"
        '  from: "Veille <veille@example.ma>"\n'
    )
    config = build_config(tmp_path, sources, subscribers, smtp, allow="127.0.0.1/32")
    clock = FakeClock()
    async with App(config, clock=clock) as app:
        polls, sends = await app.run_once()
        clock.advance(timedelta(hours=1))
        polls2, sends2 = await app.run_once()  # the retries fail the same way
        statuses = await app.standing.status([s.name for s in config.subscribers])
    await status_command(config, clock)  # `monitor status`: last errors, on stdout

    results = {p.source: p.result for p in polls}
    assert results["ok"] == "ok"
    assert {name for name, result in results.items() if result == "error"} == set(sources) - {"ok"}
    assert {s.subscriber for s in sends} == {*hooks, "mail"}
    assert all(s.result != "sent" for s in sends)  # every delivery failed
    out, err = capsys.readouterr()
    assert "delivery" in err and "poll" in err  # the daemon did log, at DEBUG, to stderr
    assert "error" in out  # and `monitor status` shows the errors
    assert not leaks(
        out,
        err,
        *kept.lines,
        *(p.error for p in polls + polls2),
        *(s.last_error for s in statuses),
        sends,
        sends2,
    )


# --- exceptions and their tracebacks, one boundary at a time ---------------------------------


def digest() -> Digest:
    item = DigestItem(
        id="it_1",
        title="Le démarchage encadré",
        link="https://x.ma/1",
        source="f",
        published=None,
        summary="",
        rules=("demarchage",),
        terms={"demarchage": ("démarchage",)},
    )
    return Digest("dg_1", "s", FakeClock().now, (item,))


def context(session: aiohttp.ClientSession, smtp: SmtpConfig | None = None) -> NotifierContext:
    return NotifierContext(
        renderer=Renderer(ZoneInfo("UTC")),
        smtp=smtp,
        session=session,
        stdout=io.StringIO(),
        timeout=5.0,
    )


async def test_smtp_failures_raise_errors_without_the_password(
    smtp_case: tuple[int, str], kept: Keep, capsys: pytest.CaptureFixture[str]
) -> None:
    port, security = smtp_case
    smtp = SmtpConfig.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "security": security,
            "username": USER,
            "password": PASSWORD,
            "from": "veille@example.ma",
            "timeout": "5s",
        }
    )
    subscriber = SubscriberConfig(name="s", email="analyste@example.ma")
    async with aiohttp.ClientSession() as session:
        notifier = build_notifier(subscriber, context(session, smtp))
        with pytest.raises(NotifyError) as caught:
            await notifier.send(digest())
    assert not leaks(shown(caught.value), *kept.lines, *capsys.readouterr())


@pytest.mark.parametrize("path", ["/hook500", "/hook410", "/hookredirect", "refused", "inside"])
async def test_webhook_failures_raise_errors_without_the_url_secrets(
    peer: Web, kept: Keep, path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = free_port()
    url = {
        "refused": f"http://{CREDS}127.0.0.1:{closed}/hook{QUERY}",
        "inside": f"http://{CREDS}127.0.0.2:{closed}/hook{QUERY}",
    }.get(path, f"{peer.base}{path}{QUERY}")
    subscriber = SubscriberConfig(name="s", webhook=url)
    network = NetworkConfig.model_validate({"allow": ["127.0.0.1/32"]})
    async with HttpClient(network) as http:
        notifier = build_notifier(subscriber, context(http.session))
        with pytest.raises(NotifyError) as caught:
            await notifier.send(digest())
    assert not leaks(shown(caught.value), *kept.lines, *capsys.readouterr())


FETCH_CASES = ["dns", "refused", "inside", "missing", "loop", "nonhttp"]


@pytest.mark.parametrize("case", FETCH_CASES)
async def test_fetch_failures_raise_errors_without_the_url_secrets(
    peer: Web, kept: Keep, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = free_port()
    url = {
        "dns": f"http://{CREDS}nohost.invalid/feed{QUERY}",
        "refused": f"http://{CREDS}127.0.0.1:{closed}/feed{QUERY}",
        "inside": f"http://{CREDS}127.0.0.2:{closed}/feed{QUERY}",
        "missing": f"{peer.base}/missing{QUERY}",
        "loop": f"{peer.base}/loop{QUERY}",
        "nonhttp": f"{peer.base}/nonhttp{QUERY}",
    }[case]
    network = NetworkConfig.model_validate({"allow": ["127.0.0.1/32"], "timeout": "5s"})
    async with HttpClient(network) as http:
        with pytest.raises(FetchError) as caught:
            await http.fetch(url)
    assert not leaks(str(caught.value), *kept.lines, *capsys.readouterr())
    assert not leaks(shown(caught.value)), "a chained library error shows the URL"


# --- configuration errors --------------------------------------------------------------------

CONFIG_BASE = """\
storage: sqlite:///{db}
smtp:
  host: mail.example.ma
  username: veille
  password: ${{SMTP_PASSWORD}}
  from: veille@example.ma
{smtp_extra}sources:
  - name: f
    url: {source_url}
rules:
  - name: r
    any: [démarchage]
subscribers:
  - name: s
    webhook: {webhook_url}
{subscriber_extra}"""
GOOD_URL = f"https://{CREDS}feeds.example.ma/f{QUERY}"
CONFIG_CASES = {
    "bad port beside the password": {"smtp_extra": "  port: nope\n"},
    "unknown key holding the password": {"smtp_extra": "  pasword: ${SMTP_PASSWORD}\n"},
    "password in a list": {"smtp_extra": "  timeout: [${SMTP_PASSWORD}]\n"},
    "ftp source with credentials": {"source_url": f"ftp://{CREDS}feeds.example.ma/f{QUERY}"},
    "backslash source with credentials": {
        "source_url": f"https://{CREDS}feeds.example.ma\\@evil.example/f{QUERY}"
    },
    "webhook without a host": {"webhook_url": f"https://{CREDS}/hook{QUERY}"},
    "webhook secret without whsec_": {"subscriber_extra": "    secret: ${SMTP_PASSWORD}\n"},
    "missing variable beside the password": {"subscriber_extra": "    secret: ${WEBHOOK_SECRET}\n"},
    "invalid YAML after the password": {"subscriber_extra": "    rules: [r\n  - : :\n"},
}


def config_text(tmp_path: Path, **changes: str) -> str:
    values = {
        "db": f"{tmp_path}/m.db",
        "smtp_extra": "",
        "source_url": GOOD_URL,
        "webhook_url": f"https://{CREDS}hooks.example.ma/h{QUERY}",
        "subscriber_extra": "",
    }
    values.update(changes)
    return CONFIG_BASE.format(**values)


def test_a_valid_config_with_the_canaries_loads(tmp_path: Path) -> None:
    config = parse_config(config_text(tmp_path), "m.yaml", {"SMTP_PASSWORD": PASSWORD})
    assert config.smtp is not None and config.smtp.password is not None
    assert config.smtp.password.get_secret_value() == PASSWORD
    # the password is a SecretStr; URLs are plain strings, kept out of messages where used
    assert PASSWORD not in repr(config) and PASSWORD not in str(config)


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_config_errors_do_not_show_the_secrets(tmp_path: Path, case: str) -> None:
    text = config_text(tmp_path, **CONFIG_CASES[case])
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "m.yaml", {"SMTP_PASSWORD": PASSWORD})
    assert caught.value.problems
    assert not leaks(shown(caught.value), *caught.value.problems)


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_monitor_check_prints_config_errors_without_the_secrets(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(config_text(tmp_path, **CONFIG_CASES[case]), encoding="utf-8")
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    assert main(["check", "-c", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "m.yaml:" in err
    assert not leaks(out, err)


async def test_a_refused_reload_logs_its_errors_without_the_secrets(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kept: Keep,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    path = tmp_path / "m.yaml"
    path.write_text(config_text(tmp_path), encoding="utf-8")
    config = load_config(path)
    async with App(config, clock=FakeClock(), config_path=path) as app:
        for case in sorted(CONFIG_CASES):
            path.write_text(config_text(tmp_path, **CONFIG_CASES[case]), encoding="utf-8")
            await app.reload_from_file()
    _, err = capsys.readouterr()
    assert "reload-refused" in err and "config-error" in err
    assert not leaks(err, *kept.lines)


# --- the log formatter's own net -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"GET https://{CREDS}h.example/f{QUERY}&page=2#top failed",
            "GET https://***@h.example/f?token=***&page=2#top failed",  # page: not a secret
        ),
        (f"url='http://h.example/x?{URL_TOKEN}'", "url='http://h.example/x?***'"),
        ("ftp://a:b@c:21/p;x?y=1&sig=2", "ftp://***@c:21/p;x?y=1&sig=***"),
        ("postgresql://monitor:pw@db.example/monitor", "postgresql://***@db.example/monitor"),
        ("no URL here: user:pass@host", "no URL here: user:pass@host"),
        ("https://h.example/a/b", "https://h.example/a/b"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert not leaks(redact(text))


def test_the_log_formatter_redacts_urls_in_messages_fields_and_tracebacks() -> None:
    try:
        raise ValueError(f"cannot fetch http://{CREDS}h.example/{QUERY}")
    except ValueError as exc:
        record = logging.LogRecord(
            "monitor", logging.ERROR, __file__, 1, f"poll https://{CREDS}h/", None, None
        )
        record.exc_info = (type(exc), exc, exc.__traceback__)
        record.fields = {"url": f"https://h.example/f{QUERY}", "source": "f"}
    line = logs.KeyValueFormatter().format(record)
    assert "source=f" in line and 'url="https://h.example/f?token=***"' in line
    assert "ValueError" in line and "https://***@h/" in line
    assert not leaks(line)
