"""Delivery history per subscriber (`status --subscriber`) and `monitor retry` of dead letters."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.daemon.app import App
from monitor.store.history import history, requeue_dead
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, SmtpSink, WebhookReceiver, rss


@pytest.mark.slow
async def test_a_dead_digest_is_requeued_under_its_id_and_delivered(
    tmp_path: Path, feeds: FeedServer
) -> None:
    sink = SmtpSink(replies=["550 5.1.1 no such user"])
    port = sink.start()
    try:
        clock = FakeClock()
        feeds.resources["/f"] = Resource(
            rss(
                [
                    {
                        "title": "L'IA au centre d'appels",
                        "link": "https://x.ma/1",
                        "published": clock.now,
                    }
                ]
            )
        )
        smtp = f'smtp:\n  host: 127.0.0.1\n  port: {port}\n  security: none\n  from: "V <v@x.ma>"\n'
        config = build_config(
            tmp_path, {"f": f"{feeds.url}/f"}, "  - name: ana\n    email: ana@x.ma\n", smtp
        )
        async with App(config, clock=clock) as app:
            _, sends = await app.run_once()
            assert [s.result for s in sends] == ["dead"]
            [row] = await history(app.store.engine, "ana")
            assert (row.state, row.attempts) == ("dead", 1)
            assert row.error is not None and "550" in row.error
            clock.advance(timedelta(hours=1))
            assert await requeue_dead(app.store.engine, ["ana"], clock.now) == 1
            _, sends = await app.run_once()
            assert [(s.result, s.digest) for s in sends] == [("sent", row.digest)]
            [row] = await history(app.store.engine, "ana")
            assert (row.state, row.when) == ("sent", clock.now)
        assert len(sink.messages) == 1
        assert row.digest is not None and row.digest in sink.messages[0]["Message-ID"]
    finally:
        sink.stop()


@pytest.mark.slow
async def test_the_commands(tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver) -> None:
    clock = FakeClock()
    feeds.resources["/f"] = Resource(
        rss([{"title": "Démarchage : la loi", "link": "https://x.ma/1", "published": clock.now}])
    )
    receiver.statuses = [500]
    config = build_config(tmp_path, {"f": f"{feeds.url}/f"}, webhook_subscriber(receiver.url))
    async with App(config, clock=clock) as app:
        await app.run_once()
    path = tmp_path / "c.yaml"
    path.write_text(
        f"storage: sqlite:///{tmp_path}/monitor.db\nsubscribers:\n"
        f"  - name: ops\n    webhook: {receiver.url}/hook\n"
    )

    def monitor(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args, "-c", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    shown = monitor("status", "--subscriber", "ops")
    assert shown.returncode == 0, shown.stderr
    [line] = shown.stdout.splitlines()
    digest_id = json.loads(receiver.requests[0].body)["id"]
    assert line.startswith("failed ") and digest_id in line and "Démarchage : la loi" in line
    assert "[1 attempt: " in line and "HTTP 500" in line
    assert re.search(r"\]  next try (now|\d+[smhd] from now)$", line), line
    assert monitor("status", "--subscriber", "nobody").returncode == 2
    retried = monitor("retry")
    assert (retried.returncode, retried.stdout.split()[0]) == (0, "0")  # nothing is dead
