"""Delivery failures as ``monitor status --subscriber`` says them, after a real ``run --once``:
in words a person would use (``connection refused by 127.0.0.1:PORT``, ``SMTP server refused
login (535 …)``), with the attempts counted in good grammar and the next try due."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult

from tests.support.cli import monitor
from tests.support.net import free_port
from tests.support.peers import FeedServer, LoopbackController, Resource, rss

PASSWORD = "Pw-5e1f-never-shown"


def write_config(tmp_path: Path, feed_url: str, hook_port: int, smtp_port: int) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
storage: sqlite:///{tmp_path}/m.db
network:
  allow: [127.0.0.0/8]
  timeout: 5s
smtp:
  host: 127.0.0.1
  port: {smtp_port}
  security: none
  username: veille
  password: {PASSWORD}
  from: v@x.ma
sources:
  - name: local
    url: {feed_url}
rules:
  - name: demarchage
    any: ["démarchage"]
subscribers:
  - name: ops
    webhook: http://127.0.0.1:{hook_port}/hook
  - name: ana
    email: ana@x.ma
""")
    return path


class Accepting:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def refuse_everyone(*_: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


@pytest.fixture
def refusing_smtp() -> Iterator[int]:
    """aiosmtpd asking for a login (without TLS, on loopback) and refusing every one: 535."""
    controller = LoopbackController(
        Accepting(),
        hostname="127.0.0.1",
        port=0,
        authenticator=refuse_everyone,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield int(controller.port)
    finally:
        controller.stop()


@pytest.mark.slow
async def test_webhook_and_smtp_failures_are_said_in_words(
    tmp_path: Path, feeds: FeedServer, refusing_smtp: int
) -> None:
    feeds.resources["/feed"] = Resource(
        rss([{"guid": "1", "title": "Démarchage : la loi", "link": "https://x.ma/1",
              "published": datetime.now(UTC)}])
    )  # fmt: skip
    closed = free_port()
    path = write_config(tmp_path, f"{feeds.url}/feed", closed, refusing_smtp)
    ran = await asyncio.to_thread(monitor, "run", "--once", "-c", str(path), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "ClientConnectorError" not in ran.stderr and "SMTPAuthenticationError" not in ran.stderr

    ops = await asyncio.to_thread(
        monitor, "status", "--subscriber", "ops", "-c", str(path), cwd=tmp_path
    )
    assert ops.returncode == 0, ops.stderr
    [line] = ops.stdout.splitlines()
    said = re.fullmatch(
        r"failed +\d+[smhd] ago +dg_\S+ +Démarchage : la loi  "
        r"\[1 attempt: webhook ops \(127\.0\.0\.1\): "
        rf"connection refused by 127\.0\.0\.1:{closed}\]  next try (now|\d+[sm] from now)",
        line,
    )
    assert said is not None, line

    ana = await asyncio.to_thread(
        monitor, "status", "--subscriber", "ana", "-c", str(path), cwd=tmp_path
    )
    assert ana.returncode == 0, ana.stderr
    [line] = ana.stdout.splitlines()
    # a refused login is permanent: dead at once, no next try
    said = re.fullmatch(
        r"dead +\d+[smhd] ago +dg_\S+ +Démarchage : la loi  \[1 attempt: email ana via "
        rf"127\.0\.0\.1:{refusing_smtp}: SMTP server refused login \(535 [^\]]+\)\]",
        line,
    )
    assert said is not None, line
    assert PASSWORD not in ran.stderr + ops.stdout + ana.stdout

    status = await asyncio.to_thread(monitor, "status", "-c", str(path), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert (
        "subscriber ops: pending 1, failed 1, dead 0, digests sent 0, items sent 0, last error: "
        f"webhook ops (127.0.0.1): connection refused by 127.0.0.1:{closed}"
    ) in status.stdout.splitlines()
