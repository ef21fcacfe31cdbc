"""Source health notices (issue 4): one notice when a source breaks, one when it recovers,
through the outbox, to the subscribers with ``health: true`` only. The transitions are a pure
function tested on a fake timeline; the daemon is run against loopback peers with a fake clock."""

from __future__ import annotations

import asyncio
import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook

from monitor.cli.commands import digest_command
from monitor.cli.status import status_command
from monitor.config.model import Config
from monitor.core.models import FAILING, NOTICE_KEY_PREFIX, OK, SILENT
from monitor.daemon.app import App
from monitor.digest.i18n import duration_text
from monitor.poll.health import (
    RHYTHM_GAPS,
    Health,
    HealthWatch,
    Notice,
    assess,
    notice_text,
    silence_limit,
)
from monitor.poll.health import PollSeen as Seen  # (short: the table below)
from monitor.store.sources import SourceStore
from monitor.store.tables import items, sources
from tests.support.daemon import SECRET, build_config
from tests.support.peers import FakeClock, FeedServer, Resource, WebhookReceiver, rss
from tests.support.store import config as store_config
from tests.support.store import item as store_item
from tests.support.store import outcome as store_outcome

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
H = timedelta(hours=1)
SECOND = timedelta(seconds=1)
ERROR = "127.0.0.1 answered 500 Internal Server Error"  # as the HTTP client words it


def hourly(count: int, last: datetime = T0) -> list[datetime]:
    """``count`` arrivals one hour apart, the newest at ``last``, newest first."""
    return [last - n * H for n in range(count)]


@pytest.mark.parametrize(
    ("health", "poll", "arrivals", "expected", "notice"),
    [
        # failures shorter than the threshold: remembered, not told
        (Health(), Seen("s", T0, "HTTP 500"), [], Health(failing_since=T0), None),
        (
            Health(failing_since=T0),
            Seen("s", T0 + 23 * H, "x"),
            [],
            Health(failing_since=T0),
            None,
        ),
        # the threshold reached: told once, the trouble dated from the first failure
        (
            Health(failing_since=T0),
            Seen("s", T0 + DAY, "x"),
            [],
            Health(FAILING, T0, T0),
            FAILING,
        ),
        (
            Health(FAILING, T0, T0),
            Seen("s", T0 + 2 * DAY, "x"),
            [],
            Health(FAILING, T0, T0),
            None,
        ),
        # 410 Gone is never polled again: told at once
        (Health(), Seen("s", T0, "HTTP 410", gone=True), [], Health(FAILING, T0, T0), FAILING),
        # a success ends a failure, or a run of failures too short to tell
        (Health(FAILING, T0, T0), Seen("s", T0 + DAY), [], Health(OK, T0 + DAY), OK),
        (Health(failing_since=T0), Seen("s", T0 + H), [], Health(), None),
        # a silent source recovers with a new item, not with a mere successful poll
        (Health(SILENT, T0), Seen("s", T0 + DAY), [], Health(SILENT, T0), None),
        (Health(SILENT, T0), Seen("s", T0 + DAY, new_items=2), [], Health(OK, T0 + DAY), OK),
        # a silent source can also break
        (
            Health(SILENT, T0, T0),
            Seen("s", T0 + DAY, "x"),
            [],
            Health(FAILING, T0, T0),
            FAILING,
        ),
        # silence: hourly arrivals make a 3 h limit (above the 2 h threshold)
        (Health(), Seen("s", T0 + 3 * H), hourly(6), Health(), None),
        (Health(), Seen("s", T0 + 3 * H + SECOND), hourly(6), Health(SILENT, T0), SILENT),
        # too few arrivals to know a rhythm: never silent
        (Health(), Seen("s", T0 + 30 * DAY), hourly(4), Health(), None),
        # a poll that brought new items is not silent, whatever the store still says
        (Health(), Seen("s", T0 + DAY, new_items=1), hourly(6), Health(), None),
        # after a recovery, silence is counted from the recovery, not from the last item
        (
            Health(OK, T0 + DAY),
            Seen("s", T0 + DAY + 3 * H),
            hourly(6),
            Health(OK, T0 + DAY),
            None,
        ),
        (
            Health(OK, T0 + DAY),
            Seen("s", T0 + DAY + 3 * H + SECOND),
            hourly(6),
            Health(SILENT, T0 + DAY),
            SILENT,
        ),
    ],
)
def test_assess(
    health: Health,
    poll: Seen,
    arrivals: list[datetime],
    expected: Health,
    notice: str | None,
) -> None:
    threshold = 2 * H if arrivals else DAY
    new, told = assess(health, poll, threshold, arrivals)
    assert new == expected
    assert (told.state if told else None) == notice
    if told is not None:
        assert told.source == "s" and told.at == poll.at
        # a recovery is dated from the trouble it ends; a breakdown from its own start
        assert told.since == (health.since if notice == OK else new.since)


def test_a_failing_source_polled_with_backoff_for_days_is_told_once() -> None:
    health, notices = Health(), []
    at, delay = T0, timedelta(minutes=15)
    while at < T0 + 5 * DAY:
        health, notice = assess(health, Seen("s", at, "HTTP 500"), DAY)
        notices += [notice] if notice else []
        at, delay = at + delay, min(delay * 2, DAY)
    health, notice = assess(health, Seen("s", at), DAY)
    notices += [notice] if notice else []
    for later in range(1, 30):  # healthy polls afterwards tell nothing
        health, extra = assess(health, Seen("s", at + later * H, new_items=1), DAY)
        assert extra is None
    assert [(n.state, n.since) for n in notices] == [(FAILING, T0), (OK, T0)]
    assert notices[0].at - T0 >= DAY and notices[0].error == "HTTP 500"


@pytest.mark.parametrize(
    ("arrivals", "threshold", "limit"),
    [
        (hourly(6), 2 * H, 3 * H),  # 3 times the median gap
        (hourly(6), DAY, DAY),  # never under the threshold
        (hourly(4), H, None),  # too few arrivals
        (hourly(4) + hourly(4), H, None),  # the same arrival counted once
        # the median ignores one long pause among regular hours
        (
            [T0, T0 - H, T0 - 2 * H, T0 - 10 * DAY, T0 - 10 * DAY - H, T0 - 10 * DAY - 2 * H],
            H,
            3 * H,
        ),
        # only the last RHYTHM_GAPS gaps count: old daily arrivals are forgotten
        (hourly(11) + [T0 - n * DAY for n in range(1, 20)], H, 3 * H),
    ],
)
def test_silence_limit(arrivals: list[datetime], threshold: timedelta, limit: timedelta) -> None:
    assert silence_limit(arrivals, threshold) == limit


@pytest.mark.parametrize(
    ("language", "duration", "text"),
    [
        ("fr", timedelta(minutes=45), "45 min"),
        ("fr", DAY, "24 h"),
        ("en", 30 * H + timedelta(minutes=59), "30 h"),
        ("fr", 3 * DAY + H, "3 jours"),
        ("en", 3 * DAY, "3 days"),
        ("ar", timedelta(minutes=2), "دقيقتين"),  # the dual
        ("ar", timedelta(minutes=45), "45 دقيقة"),
        ("ar", H, "ساعة واحدة"),
        ("ar", 5 * H, "5 ساعات"),  # 3-10: the plural
        ("ar", 3 * DAY, "3 أيام"),
        ("ar", 12 * DAY, "12 يومًا"),  # 11-99: the singular, accusative
    ],
)
def test_duration_text(language: str, duration: timedelta, text: str) -> None:
    assert duration_text(language, duration) == text


@pytest.mark.parametrize(
    ("notice", "language", "title"),
    [
        (
            Notice("leseco", FAILING, T0 + DAY, T0, error="cannot resolve\n host leseco.ma"),
            "fr",
            "Source leseco en panne depuis 24 h : cannot resolve host leseco.ma",
        ),
        (
            Notice("leseco", FAILING, T0 + DAY, T0, error="HTTP 500"),
            "en",
            "Source leseco failing for 24 h: HTTP 500",
        ),
        (
            Notice("leseco", SILENT, T0 + 3 * DAY, T0, rhythm=DAY),
            "fr",
            "Source leseco muette depuis 3 jours",
        ),
        (
            Notice("leseco", OK, T0 + 30 * H, T0, FAILING),
            "fr",
            "Source leseco rétablie après 30 h de panne",
        ),
        (
            Notice("leseco", OK, T0 + 30 * H, T0, SILENT),
            "en",
            "Source leseco publishing again after 30 h of silence",
        ),
    ],
)
def test_notice_text(notice: Notice, language: str, title: str) -> None:
    shown, summary = notice_text(notice, language)
    assert shown == title
    assert summary and "{" not in summary


def test_a_failing_notice_says_polling_goes_on_in_each_language() -> None:
    notice = Notice("leseco", FAILING, T0 + DAY, T0, error="HTTP 500")
    assert notice_text(notice, "en")[1] == (
        "Last error: HTTP 500. Polling goes on; another notice will follow when it recovers."
    )
    assert "HTTP 500" in notice_text(notice, "fr")[1]


# --- the whole daemon -------------------------------------------------------------------


def subscribers(url: str) -> str:
    """ops and night want notices (French, English), plain does not, later reads them daily."""
    return (
        f"  - name: ops\n    webhook: {url}/ops\n    secret: ${{WEBHOOK_SECRET}}\n"
        "    health: true\n"
        f"  - name: night\n    webhook: {url}/night\n    language: en\n    health: true\n"
        f"  - name: plain\n    webhook: {url}/plain\n"
        f"  - name: later\n    webhook: {url}/later\n    digest: daily 08:00\n    health: true\n"
    )


def one_source(tmp_path: Path, feeds: FeedServer, receiver: WebhookReceiver) -> Config:
    """One source, src; a silence is told past its rhythm, and at least 2 h."""
    return build_config(
        tmp_path,
        {"src": f"{feeds.url}/f"},
        subscribers(receiver.url),
        extra="defaults:\n  health_after: 2h\n",
    )


def notices(receiver: WebhookReceiver, path: str) -> list[dict[str, Any]]:
    return [
        item
        for request in receiver.accepted()
        if request.path == path
        for item in json.loads(request.body)["items"]
    ]


@pytest.mark.slow
async def test_failing_source_one_notice_when_it_breaks_one_when_it_recovers(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    feeds.resources["/f"] = Resource(b"boom", status=500)
    config = build_config(tmp_path, {"src": f"{feeds.url}/f"}, subscribers(receiver.url))
    async with App(config, clock=clock) as app:
        for _ in range(31):  # every hour for 30 h, whatever the backoff says
            await app.run_once()
            clock.advance(H)
        assert feeds.hits["/f"] == 31
        assert (await app.store.states(["src"]))["src"].health == FAILING
        broke = notices(receiver, "/ops")
        assert [n["title"] for n in broke] == [f"Source src en panne depuis 24 h : {ERROR}"]
        assert [n["title"] for n in notices(receiver, "/night")] == [
            f"Source src failing for 24 h: {ERROR}"
        ]
        feeds.resources["/f"] = Resource(rss([{"title": "Météo", "link": "https://x.ma/1"}]))
        for _ in range(5):
            await app.run_once()
            clock.advance(H)
    recovered = notices(receiver, "/ops")[1:]
    assert [n["title"] for n in recovered] == ["Source src rétablie après 31 h de panne"]
    assert [n["title"] for n in notices(receiver, "/night")][1:] == [
        "Source src recovered after 31 h of failures"
    ]
    assert notices(receiver, "/plain") == notices(receiver, "/later") == []
    # the generic §3.5 body holds a notice as it holds an alert, and is signed
    first = next(r for r in receiver.accepted() if r.path == "/ops")
    Webhook(SECRET).verify(first.body, first.headers)
    item = broke[0]
    assert (item["link"], item["source"], item["rules"], item["terms"]) == (
        "",
        "src",
        ["source-health"],
        {},
    )
    assert item["published"] == "2026-11-27T09:00:00Z" and ERROR in item["summary"]
    await commands_still_work(config, clock)


async def commands_still_work(config: Config, clock: FakeClock) -> None:
    """`monitor status` and `monitor digest` show the notices waiting for a daily subscriber."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert await status_command(config, clock) == 0
        assert await digest_command(config, "later", "text", clock) == 0
        assert await digest_command(config, "later", "html", clock) == 0
    shown = out.getvalue()
    assert "subscriber later: pending 2" in shown
    assert "subscriber ops: pending 0, failed 0, dead 0, digests sent 2, items sent 2" in shown
    assert shown.count("Source src rétablie après 31 h de panne") == 2  # text and html
    assert f"Source src en panne depuis 24 h : {ERROR}" in shown  # html (text wraps it)
    assert "source-health (2)" in shown and "(pas de lien)" in shown


@pytest.mark.slow
async def test_silent_source_is_told_once_and_again_when_it_publishes(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    feeds, receiver = peers
    clock = FakeClock()
    published: list[dict[str, Any]] = []

    def publish() -> None:
        n = len(published)
        published.append({"guid": f"g{n}", "title": f"Météo {n}", "published": clock.now})
        feeds.resources["/f"] = Resource(rss(published))

    config = one_source(tmp_path, feeds, receiver)
    async with App(config, clock=clock) as app:
        reads = count_arrival_reads(app.store.engine)
        for _ in range(6):  # an item an hour: a rhythm of 1 h, so silence after 3 h
            publish()
            await app.run_once()
            clock.advance(H)
        for _ in range(10):  # ten hours of nothing new, polled every 30 min
            await app.run_once()
            clock.advance(H / 2)
        assert [n["title"] for n in notices(receiver, "/ops")] == ["Source src muette depuis 3 h"]
        assert (await app.store.states(["src"]))["src"].health == SILENT
        publish()
        for _ in range(4):
            await app.run_once()
            clock.advance(H / 2)
        # the arrivals were read once, at the first poll with nothing new, then kept
        assert reads == [1]
    titles = [n["title"] for n in notices(receiver, "/night")]
    assert titles == [
        "Source src silent for 3 h",
        "Source src publishing again after 6 h of silence",
    ]
    assert notices(receiver, "/plain") == []


def count_arrival_reads(engine: AsyncEngine) -> list[int]:
    """A one-element list counting the queries that read a source's arrivals."""
    count = [0]

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "row_number() OVER (PARTITION BY" in statement:
            count[0] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    return count


@pytest.mark.slow
async def test_kept_arrivals_are_read_again_after_another_replicas_poll(
    tmp_path: Path, peers: tuple[FeedServer, WebhookReceiver]
) -> None:
    """Another replica polled in between and found something new: the arrivals kept from this
    daemon's last poll are stale, so they are read again (else the source would be told silent
    while it publishes)."""
    feeds, receiver = peers
    clock = FakeClock()
    published = [{"guid": f"g{n}", "title": f"Météo {n}"} for n in range(6)]
    config = one_source(tmp_path, feeds, receiver)
    async with App(config, clock=clock) as app:
        reads = count_arrival_reads(app.store.engine)
        for n in range(6):  # hourly arrivals: silent after 3 h without one
            feeds.resources["/f"] = Resource(rss(published[: n + 1]))
            await app.run_once()
            clock.advance(H)
        for _ in range(2):  # nothing new: read once, then kept
            await app.run_once()
            clock.advance(H / 2)
        assert reads == [1]
        other = clock.now  # another replica's poll brings an item
        async with app.store.engine.begin() as conn:
            await conn.execute(
                insert(items).values(
                    source="src", key="other", article="https://x.ma/other", link="",
                    title="Météo", summary="", published=other, seen_at=other,
                )
            )  # fmt: skip
            await conn.execute(
                update(sources).where(sources.c.name == "src").values(last_poll_at=other)
            )
        clock.advance(2 * H)
        await app.run_once()  # 4 h after this daemon's last arrival, 2 h after the other's
        assert reads == [2]
        assert (await app.store.states(["src"]))["src"].health == "ok"
    assert notices(receiver, "/ops") == []


@pytest.mark.slow
async def test_the_arrivals_of_polls_ending_together_are_read_in_one_query(
    engine: AsyncEngine,
) -> None:
    """At a start every source's first unchanged poll reads its arrivals: they share a query
    (on both backends), each source gets its own newest distinct times, notices left out."""
    names = [f"s{n:02}" for n in range(30)]
    store = SourceStore(engine)
    await store.sync(store_config({name: f"https://{name}.ma/feed" for name in names}), T0)
    for hours in range(RHYTHM_GAPS + 3):  # one more arrival than kept, and one time twice
        at = T0 + timedelta(hours=hours)
        for name in names[: 10 + hours]:  # later sources start later
            new = (store_item(name, f"k{hours}"), store_item(name, f"k{hours}b"))
            await store.record([store_outcome(name, new, at=at)])
    notice_at = T0 + timedelta(hours=50)
    async with engine.begin() as conn:  # a notice item is not an arrival
        await conn.execute(insert(items).values(
            source="s00", key=f"{NOTICE_KEY_PREFIX}down:x", article="a", link="", title="t",
            summary="", published=notice_at, seen_at=notice_at,
        ))  # fmt: skip
    watch = HealthWatch(engine)
    reads = count_arrival_reads(engine)
    found = await asyncio.gather(*(watch.arrivals(name) for name in [*names, "nowhere"]))
    assert reads == [1]
    last = RHYTHM_GAPS + 2
    assert found[0] == [T0 + timedelta(hours=h) for h in range(last, last - RHYTHM_GAPS - 1, -1)]
    assert found[12] == [T0 + timedelta(hours=h) for h in range(last, 2, -1)][: RHYTHM_GAPS + 1]
    assert found[-1] == []
    assert [await watch.arrivals(name) for name in names] == found[:-1]  # alone: the same
