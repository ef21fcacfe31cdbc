"""``GET /api/sources`` served for real on loopback over a real SQLite store (the overview's 120
sources, tests/web/test_app_overview.py): the JSON's shape and values, paging through ``next``,
filters, 400s naming the parameter, and access by session or HTTP Basic — 401 with a challenge,
a verified pair remembered (argon2 not paid again), the throttle shared with the login form."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import insert

from monitor.store import transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import items, push_subscriptions
from monitor.web.basic import REMEMBER
from monitor.web.guard import CSP
from tests.support.peers import FakeClock
from tests.support.statements import statements
from tests.support.webapp import USERS, Served, app_config, log_in, push_lease, serve_app
from tests.web.test_app_overview import BROKEN, NEW, T0, polled, source_list

NAME, PASSWORD = "analyste", USERS["analyste"]


def basic(name: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


GOOD = basic(NAME, PASSWORD)
ALL = sorted(BROKEN) + sorted({f"s{n:03d}" for n in range(120)} - set(BROKEN))


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with serve_app(tmp_path, app_config(source_list()), FakeClock(T0)) as running:
        await SourceStore(running.engine).sync(running.holder[0], T0 - timedelta(days=4))
        await polled(running.engine)
        yield running


async def get(
    served: Served, path: str, auth: dict[str, str] | None = GOOD
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with served.client() as client, client.get(path, headers=auth) as answer:
        return answer.status, await answer.json(), answer


async def pages(served: Served, query: str) -> list[list[dict[str, Any]]]:
    found, after = [], ""
    while True:
        status, body, _ = await get(served, f"/api/sources?{query}{after}")
        assert status == 200, body
        found.append(body["sources"])
        if body["next"] is None:
            return found
        assert body["next"] and ":" not in body["next"]  # opaque
        after = f"&after={body['next']}"


def names(found: list[list[dict[str, Any]]]) -> list[str]:
    return [source["name"] for page in found for source in page]


async def test_the_answer_and_its_values(served: Served) -> None:
    def item(source: str, n: int, days_ago: int) -> dict[str, Any]:
        return {"source": source, "key": f"{source}-{n}", "article": f"{source}-{n}",
                "link": "https://x.ma/", "title": "t", "summary": "",
                "seen_at": T0 - timedelta(days=days_ago)}  # fmt: skip

    async with transaction(served.engine) as conn:
        await conn.execute(insert(items), [item("s010", n, d) for n, d in enumerate((0, 0, 13))])
        await conn.execute(insert(push_subscriptions), [
            push_lease("s010", "c1", T0),
            push_lease("s012", "c2", T0, quiet_since=T0 - timedelta(hours=1)),  # a poll found more
            push_lease("s014", "c3", T0, lease_until=T0 - timedelta(seconds=1)),  # lease over
        ])  # fmt: skip
    async with served.client() as client:
        await log_in(client, NAME, PASSWORD)  # a session does as well as Basic
        async with client.get("/api/sources?limit=200") as answer:
            assert answer.status == 200 and answer.content_type == "application/json"
            assert answer.headers["Cache-Control"] == "no-store"
            assert answer.headers["Content-Security-Policy"] == CSP
            assert answer.headers["X-Frame-Options"] == "DENY"
            assert answer.headers["X-Content-Type-Options"] == "nosniff"
            assert answer.headers["Referrer-Policy"] == "same-origin"
            body = await answer.json()
    assert set(body) == {"sources", "next"} and body["next"] is None
    rows = {row["name"]: row for row in body["sources"]}
    assert [row["name"] for row in body["sources"]] == ALL
    assert rows["s010"] == {
        "name": "s010", "kind": "feed", "state": "ok", "pushed": True,
        "last_poll": "2026-11-26T08:55:00Z", "next_due": "2026-11-26T09:10:00Z",
        "last_error": None, "new_items_per_day": [1] + [0] * 12 + [2],
    }  # fmt: skip
    assert [rows[n]["pushed"] for n in ("s012", "s014", "s016")] == [False] * 3
    failing = rows["s007"]
    assert (failing["kind"], failing["state"]) == ("html", "failing")
    assert "timeout after 30s" in failing["last_error"]
    assert "pw" not in failing["last_error"] and "t0p" not in failing["last_error"]
    assert (rows["s055"]["state"], rows["s055"]["next_due"]) == ("gone", None)
    assert rows["s003"]["state"] == "new" and rows["s003"]["last_poll"] is None
    assert {n for n, r in rows.items() if r["state"] == "new"} == NEW
    assert all(len(r["new_items_per_day"]) == 14 for r in rows.values())


@pytest.mark.parametrize("limit", [7, 50, 200])
async def test_paging_through_next_has_no_gap_and_no_duplicate(served: Served, limit: int) -> None:
    found = await pages(served, f"limit={limit}")
    assert names(found) == ALL
    assert [len(p) for p in found[:-1]] == [limit] * (len(found) - 1)
    default = await pages(served, "")
    assert [len(p) for p in default] == [50, 50, 20]


async def test_filters(served: Served) -> None:
    assert names(await pages(served, "state=failing")) == ["s007", "s090", "s118"]
    others = [f"s11{n}" for n in range(10) if n != 8]
    assert names(await pages(served, "q=S11&limit=3")) == ["s118", *others]
    assert names(await pages(served, "tag=pair&state=silent")) == ["s042"]
    assert len(names(await pages(served, "tag=impair&limit=11"))) == 60
    assert names(await pages(served, "tag=nowhere")) == []
    assert names(await pages(served, "state=")) == ALL  # empty: no filter


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("state=broken", "state"),
        ("after=nonsense!", "after"),
        ("after=Mjpz", "after"),  # base64 of "2:s": not a rank this API gives
        ("q=" + "x" * 101, "q"),
    ],
)
async def test_a_bad_parameter_is_400_naming_it(served: Served, query: str, named: str) -> None:
    status, body, answer = await get(served, f"/api/sources?{query}")
    assert status == 400 and set(body) == {"error"}
    assert body["error"].startswith(f"{named}:")
    assert answer.headers["Cache-Control"] == "no-store"


async def test_401_without_credentials_or_with_wrong_ones(served: Served) -> None:
    bodies = []
    for auth in (None, basic(NAME, "wrong"), basic("personne", "x")):
        status, body, answer = await get(served, "/api/sources", auth)
        assert status == 401, auth
        assert answer.headers["WWW-Authenticate"] == 'Basic realm="monitor"'
        assert answer.headers["X-Frame-Options"] == "DENY"
        bodies.append(body)
    assert bodies == [{"error": "unauthorized"}] * 3  # never says whether the name exists
    for header in ("Basic !!!", "Bearer x", "Basic " + "YWJj"):  # (no colon)
        async with served.client() as client:
            async with client.get("/api/sources", headers={"Authorization": header}) as answer:
                assert answer.status == 401, header
    status, body, _ = await get(served, "/api/nothing")  # Basic opens the rest of /api/* too
    assert status == 404


class Counting:
    """The app's argon2 hasher, counting its verifications."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.verified = inner, 0

    def verify(self, hashed: str, password: str) -> bool:
        self.verified += 1
        return bool(self.inner.verify(hashed, password))

    def hash(self, password: str) -> str:
        return str(self.inner.hash(password))


async def test_a_verified_pair_is_remembered_a_few_minutes(served: Served) -> None:
    hasher = Counting(served.routes.access.hasher)
    served.routes.access.hasher = hasher  # type: ignore[assignment]
    assert (await get(served, "/api/sources?limit=1"))[0] == 200
    assert hasher.verified == 1
    served.clock.advance(REMEMBER - timedelta(seconds=1))
    for _ in range(3):
        assert (await get(served, "/api/sources?limit=1"))[0] == 200
    assert hasher.verified == 1  # argon2 not paid again
    other = basic("relecteur", USERS["relecteur"])
    assert (await get(served, "/api/sources?limit=1", other))[0] == 200
    assert hasher.verified == 2  # another pair: verified
    for _ in range(2):  # a wrong pair is never remembered
        assert (await get(served, "/api/sources", basic(NAME, "wrong")))[0] == 401
    assert hasher.verified == 4
    served.clock.advance(timedelta(seconds=1))  # REMEMBER is over
    assert (await get(served, "/api/sources?limit=1"))[0] == 200
    assert hasher.verified == 5
    assert (await get(served, "/api/sources?limit=1"))[0] == 200
    assert hasher.verified == 5
    served.holder[0] = app_config(source_list())  # new hash lines (a password change): afresh
    assert (await get(served, "/api/sources?limit=1"))[0] == 200
    assert hasher.verified == 6
    key = served.routes.basic._known
    assert len(key) == 2 and all(PASSWORD.encode() not in k for k in key)


async def test_the_throttle_is_shared_with_the_login_form(served: Served) -> None:
    wrong = basic(NAME, "guess")
    for _ in range(5):
        assert (await get(served, "/api/sources", wrong))[0] == 401
        served.clock.advance(timedelta(seconds=5))
    async with served.client() as client:
        assert (await log_in(client, NAME, PASSWORD)).status == 429
    status, body, _ = await get(served, "/api/sources")  # even the right pair, for a while
    assert (status, body) == (429, {"error": "throttled"})
    served.clock.advance(timedelta(seconds=61))
    assert (await get(served, "/api/sources"))[0] == 200
    async with served.client() as client:  # the other way round, with a remembered pair
        for _ in range(5):
            assert (await log_in(client, NAME, "guess")).status == 401
    assert (await get(served, "/api/sources"))[0] == 429
    status, _, _ = await get(served, "/api/sources", basic("relecteur", "x"))
    assert status == 401  # other names are not paused


async def test_a_page_costs_two_queries_whatever_its_size(served: Served) -> None:
    with statements(served.engine) as seen:
        for limit in (1, 50, 200):
            seen.clear()
            assert (await get(served, f"/api/sources?limit={limit}&tag=pair"))[0] == 200
            assert len(seen) == 2, limit  # the page (with pushed), its items per day
