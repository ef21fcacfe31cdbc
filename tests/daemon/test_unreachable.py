"""The daemon with no network: every source fails before any server answers (a name that does
not resolve, a connection refused), and after the first round of polls one line says so and what
to check; not again, and not when one source answers, even with an error."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config.model import Config
from monitor.core.errors import FetchTimeout, HTTPStatusError, SourceError, Unreachable
from monitor.daemon.app import App
from monitor.daemon.forever import run_forever
from monitor.poll.reach import FirstRound, unreachable
from monitor.poll.report import PollReport
from tests.support.daemon import build_config, webhook_subscriber
from tests.support.peers import FakeClock, FeedServer, Resource, rss

LINE = "no-source-reachable"


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def offline_sources() -> dict[str, str]:
    return {  # .invalid never resolves (RFC 6761): no network needed to fail
        "leseco": "http://leseco.invalid/feed/",
        "medias24": "http://medias24.invalid/feed/",
        "local": f"http://127.0.0.1:{closed_port()}/feed",
    }


def every_second(config: Config) -> Config:
    """Sources polled every second, failing ones again about two seconds later (past the
    configuration's 10 s minimum)."""
    every = timedelta(seconds=1)
    return config.model_copy(
        update={"defaults": config.defaults.model_copy(update={"interval": every})}
    )


async def run_two_rounds(
    config: Config, caplog: pytest.LogCaptureFixture
) -> list[dict[str, object]]:
    """Run the daemon until every source has been polled twice; the fields of each line."""
    stop = asyncio.Event()
    async with App(every_second(config)) as app:
        daemon = asyncio.create_task(run_forever(app, stop))
        try:
            async with asyncio.timeout(30):
                while True:
                    polled = Counter(
                        r.__dict__["fields"]["source"]
                        for r in caplog.records
                        if r.getMessage() == "poll"
                    )
                    if len(polled) == len(config.sources) and min(polled.values()) >= 2:
                        break
                    await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(daemon, 10)
    return [r.__dict__["fields"] for r in caplog.records if r.getMessage() == LINE]


@pytest.mark.slow
async def test_no_source_reached_is_said_once_after_the_first_round(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = build_config(tmp_path, offline_sources(), webhook_subscriber("http://127.0.0.1:9"))
    with caplog.at_level(logging.INFO, logger="monitor"):
        lines = await run_two_rounds(config, caplog)
    assert lines == [
        {
            "polled": 3,
            "errors": "name resolution (2), connection refused (1)",
            "check": "the network, its DNS, or a proxy it needs (network.proxy); "
            "'make demo' runs offline",
        }
    ]
    [record] = [r for r in caplog.records if r.getMessage() == LINE]
    assert record.levelno == logging.WARNING


@pytest.mark.slow
async def test_nothing_is_said_when_one_source_answers_even_with_an_error(
    tmp_path: Path, feeds: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    for answer, resource in [
        ("feed", Resource(rss([{"title": "Météo", "link": "https://x.ma/1"}]))),
        ("404", None),  # a server answered: the network works
    ]:
        if resource is not None:
            feeds.resources["/feed"] = resource
        sources = {**offline_sources(), "answers": f"{feeds.url}/{'feed' if resource else 'gone'}"}
        config = build_config(tmp_path / answer, sources, webhook_subscriber("http://127.0.0.1:9"))
        with caplog.at_level(logging.INFO, logger="monitor"):
            assert await run_two_rounds(config, caplog) == [], answer
        caplog.clear()


async def test_run_once_says_it_too_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = build_config(tmp_path, offline_sources(), webhook_subscriber("http://127.0.0.1:9"))
    with caplog.at_level(logging.WARNING, logger="monitor"):
        async with App(config, clock=FakeClock()) as app:
            await app.run_once()
            await app.run_once()
    [line] = [r.__dict__["fields"] for r in caplog.records if r.getMessage() == LINE]
    assert line["polled"] == 3


async def test_the_first_round_ends_when_a_source_comes_round_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a restart some sources are not due for a while: a source polled a second time
    ends the round, on what was polled so far; a source not watched is not counted."""
    watch = FirstRound(frozenset({"a", "b", "c"}))
    with caplog.at_level(logging.WARNING, logger="monitor"):
        watch.observe(PollReport("a", "error", unreachable="timeout"))
        watch.observe(PollReport("added", "ok"))  # added by a reload: not watched
        watch.observe(PollReport("b", "error", unreachable="name resolution"))
        assert not caplog.records
        watch.observe(PollReport("a", "error", unreachable="timeout"))
        watch.observe(PollReport("c", "error", unreachable="timeout"))
    [line] = [r.__dict__["fields"] for r in caplog.records]
    assert (line["polled"], line["errors"]) == (2, "timeout (1), name resolution (1)")
    assert watch.over and not watch.sources  # the names are let go once the round is over


def test_only_failures_where_no_server_answered_count() -> None:
    assert unreachable(Unreachable("cannot resolve host x.invalid", "name resolution")) == (
        "name resolution"
    )
    assert unreachable(FetchTimeout("x.ma: timed out")) == "timeout"
    assert unreachable(HTTPStatusError(503, "x.ma answered 503")) is None
    assert unreachable(SourceError("internal error")) is None
