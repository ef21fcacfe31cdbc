"""The overview's retry button, through the real server: dead-lettered digests get a fresh round
exactly as `monitor retry` gives them (monitor.store.history.requeue_dead), the page then says
how many; without the form's CSRF token, or without a session, nothing moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from monitor.store import reading, transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import digests, items, outbox, subscribers
from tests.support.peers import FakeClock
from tests.support.webapp import USERS, Served, app_config, csrf_of, log_in, serve_app

CLOCK = FakeClock()
T0 = CLOCK.now
SUBSCRIBERS = [{"name": "s", "console": True}, {"name": "t", "console": True}]
# two dead digests (one each), one sent: only the dead ones come back
DIGESTS = {"d-s": ("s", "dead"), "d-t": ("t", "dead"), "d-sent": ("s", "sent")}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serve_app(tmp_path, app_config(subscribers=SUBSCRIBERS), CLOCK) as running:
        await SourceStore(running.engine).sync(running.holder[0], T0 - timedelta(days=1))
        async with transaction(running.engine) as conn:
            await conn.execute(insert(items), [
                {"source": "a", "key": str(n), "article": f"a{n}", "link": f"https://a.ma/{n}",
                 "title": f"t{n}", "summary": "", "seen_at": T0 - timedelta(hours=3)}
                for n in range(len(DIGESTS))
            ])  # fmt: skip
            await conn.execute(insert(digests), [
                {"id": key, "subscriber": who, "created_at": T0 - timedelta(hours=2),
                 "state": state, "attempts": 5, "next_attempt_at": T0 - timedelta(hours=1),
                 "last_error": "HTTP 502"}
                for key, (who, state) in DIGESTS.items()
            ])  # fmt: skip
            await conn.execute(insert(outbox), [
                {"subscriber": who, "article": f"a{n}", "item_id": n + 1, "rules": ["ia"],
                 "terms": {}, "state": state, "created_at": T0 - timedelta(hours=2),
                 "digest_id": key}
                for n, (key, (who, state)) in enumerate(DIGESTS.items())
            ])  # fmt: skip
        yield running


async def states(served: Served) -> dict[str, Any]:
    async with reading(served.engine) as conn:
        found = await conn.execute(select(digests.c.id, digests.c.state, digests.c.attempts))
        owed = (await conn.execute(select(outbox.c.digest_id, outbox.c.state))).all()
    return {
        "digests": {row.id: (row.state, row.attempts) for row in found},
        "outbox": {row.digest_id: row.state for row in owed},
    }


async def overview_text(served: Served, client: Any, path: str = "/") -> str:
    async with client.get(path, headers={"Accept-Language": "en"}) as answer:
        assert answer.status == 200
        text: str = await answer.text()
        return text


async def test_the_button_requeues_dead_digests_and_says_how_many(served: Served) -> None:
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        page = await overview_text(served, client)
        assert "Digests dead-lettered: 2" in page and 'action="/retry"' in page
        form = {"csrf": csrf_of(page)}
        async with client.post("/retry", data=form, allow_redirects=False) as answer:
            assert answer.status == 303
            assert answer.headers["Location"] == "/?retried=2"
        after = await states(served)
        assert after["digests"] == {"d-s": ("pending", 0), "d-t": ("pending", 0),
                                    "d-sent": ("sent", 5)}  # fmt: skip
        assert after["outbox"] == {"d-s": "pending", "d-t": "pending", "d-sent": "sent"}
        page = await overview_text(served, client, "/?retried=2")
        assert "2 digests re-queued" in page
        assert "Digests dead-lettered" not in page  # the banner has nothing left to say
        async with client.post("/retry", data=form, allow_redirects=True) as answer:
            assert answer.status == 200 and answer.url.path == "/"
            assert "Aucun résumé abandonné à renvoyer." in await answer.text()  # (lang: fr)


async def test_without_the_csrf_token_nothing_moves(served: Served) -> None:
    before = await states(served)
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        for form in ({}, {"csrf": "forged"}):
            async with client.post("/retry", data=form, allow_redirects=False) as answer:
                assert answer.status == 403
    async with served.client() as client:  # nor without a session, token or not
        async with client.post("/retry", data={"csrf": "x"}, allow_redirects=False) as answer:
            assert answer.status == 303 and answer.headers["Location"] == "/login"
    assert await states(served) == before


@pytest.mark.parametrize(
    ("flag", "shown"),
    [
        ("1", "1 digest re-queued"),
        ("0", "No dead-lettered digest to send again."),
        ("12", "12 digests re-queued"),
        ("-3", None),
        ("1e9", None),
        ("9999999", None),
        ("<b>2</b>", None),
    ],
)
async def test_the_message_only_ever_shows_a_count(
    served: Served, flag: str, shown: str | None
) -> None:
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        page = await overview_text(served, client, f"/?retried={flag}")
    assert ('class="notice"' in page) == (shown is not None)
    if shown is not None:
        assert shown in page


async def test_the_banner_counts_what_the_button_requeues(served: Served) -> None:
    """Not the digests of an unsubscribed subscriber (t), nor those of one no longer in the
    configuration (old): the banner's count is what the button re-queues, and the banner goes."""
    async with transaction(served.engine) as conn:
        gone = await conn.execute(
            update(subscribers).where(subscribers.c.name == "t").values(unsubscribed_at=T0)
        )
        assert gone.rowcount == 1
        await conn.execute(insert(digests), [{
            "id": "d-old", "subscriber": "old", "created_at": T0 - timedelta(days=9),
            "state": "dead", "attempts": 5, "next_attempt_at": T0 - timedelta(days=8),
        }])  # fmt: skip
    async with served.client() as client:
        await log_in(client, "analyste", USERS["analyste"])
        page = await overview_text(served, client)
        assert "Digests dead-lettered: 1" in page
        form = {"csrf": csrf_of(page)}
        async with client.post("/retry", data=form, allow_redirects=False) as answer:
            assert answer.headers["Location"] == "/?retried=1"
        page = await overview_text(served, client, "/?retried=1")
        assert "1 digest re-queued" in page and "Digests dead-lettered" not in page
    after = await states(served)
    assert after["digests"]["d-s"] == ("pending", 0)
    assert after["digests"]["d-t"] == ("dead", 5) and after["digests"]["d-old"] == ("dead", 5)
