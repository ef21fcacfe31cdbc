"""The screenshots in README.md and docs/webapp.md, each taken from a realistic store:

- docs/images/overview.png, the overview: French and Arabic outlets, one failing, one silent,
  one a hub pushes, two weeks of new items, subscribers with their counts and a dead-lettered
  digest;
- docs/images/subscribe.png, the sign-up page on a 375 px phone (docs/subscribers.md);
- docs/images/search.png, a search of the articles (:data:`SEARCH`) over the store of
  tests/support/newsroom.py: French and Arabic titles, the rules' terms marked, where they went.

Regenerate them, after a change to those pages' look, with (Chromium and the dev extras, as for
`make test`)::

    .venv/bin/python -m tests.support.docshots

The app is served on loopback from a store in a temporary folder, on a fixed fake clock, so a
picture only changes when its page does."""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from monitor.config.model import Config
from monitor.store import transaction
from monitor.store.sources import SourceStore
from monitor.store.tables import (
    digests,
    items,
    outbox,
    push_subscriptions,
    sources,
    subscribers,
)
from tests.support import newsroom
from tests.support.browsing import DESKTOP, PHONE, browsing
from tests.support.paths import ROOT
from tests.support.peers import FakeClock
from tests.support.signing_up import serve_signup
from tests.support.webapp import CHEAP, USERS, Served, push_lease, serve_app

IMAGES = ROOT / "docs" / "images"
SEARCH = "/items?lang=en&q=centre+d%27appel"  # French titles and an Arabic one, terms marked
HEIGHT = 900  # px of the window; the picture is the whole page
SEARCH_HEIGHT = 700  # (three articles: no blank half-page under them)
CLOCK = FakeClock()
NOW = CLOCK.now
# name, url, tags, new items per day on average, days since the last one
OUTLETS = [
    ("medias24", "https://medias24.com/feed/", ["maroc", "economie"], 8, 1),
    ("telquel", "https://telquel.ma/feed", ["maroc"], 5, 4),
    ("hespress-fr", "https://fr.hespress.com/feed", ["maroc"], 9, 0),
    ("le360", "https://fr.le360.ma/rss", ["maroc"], 11, 0),
    ("هسبريس", "https://www.hespress.com/feed", ["maroc", "arabe"], 14, 0),
    ("الصباح", "https://assabah.ma/feed", ["maroc", "arabe"], 4, 0),
]
FAILING, SILENT, PUSHED = "medias24", "telquel", "hespress-fr"


def config() -> Config:
    return Config.model_validate({
        "timezone": "Africa/Casablanca",
        "sources": [{"name": n, "url": u, "tags": t} for n, u, t, _, _ in OUTLETS],
        "rules": [{"name": "centres-appels", "any": ["centre d'appels", "call center"]}],
        "smtp": {"host": "smtp.example.org", "port": 587, "from": "veille@example.org"},
        "subscribers": [
            {"name": "direction", "email": "direction@example.org", "digest": "daily 08:00"},
            {"name": "analystes", "email": "analystes@example.org"},
            {"name": "slack-veille", "webhook": "https://hooks.example.org/veille"},
        ],
        "http": {"listen": "127.0.0.1:0", "app": {"users": [
            {"name": n, "password": CHEAP.hash(p)} for n, p in USERS.items()]}},
    })  # fmt: skip


def _item(source: str, n: int, day: int, hour: int) -> dict[str, Any]:
    return {"source": source, "key": f"{source}-{n}", "article": f"{source}-{n}",
            "link": f"https://example.org/{n}", "title": f"article {n}", "summary": "",
            "seen_at": NOW - timedelta(days=day, hours=hour)}  # fmt: skip


async def fill(served: Served) -> None:
    await SourceStore(served.engine).sync(served.holder[0], NOW - timedelta(days=30))
    chance = random.Random(23)  # the same picture each time
    rows: list[dict[str, Any]] = []
    for name, _, _, mean, quiet in OUTLETS:
        for day in range(quiet, 14):
            for _ in range(chance.randint(0, 2 * mean)):
                rows.append(_item(name, len(rows), day, chance.randint(0, 23)))
    async with transaction(served.engine) as conn:
        await conn.execute(update(sources).values(
            first_poll_at=NOW - timedelta(days=30), last_poll_at=NOW - timedelta(minutes=4),
            next_due_at=NOW + timedelta(minutes=11)))  # fmt: skip
        await conn.execute(update(sources).where(sources.c.name == FAILING).values(
            health="failing", health_since=NOW - timedelta(hours=19),
            last_error="HTTP 503 Service Unavailable from https://medias24.com/feed/ "
                       "(after 3 attempts)"))  # fmt: skip
        await conn.execute(update(sources).where(sources.c.name == SILENT).values(
            health="silent", health_since=NOW - timedelta(days=3, hours=2)))  # fmt: skip
        await conn.execute(insert(items), rows)
        sent = NOW.replace(hour=7, minute=0)  # this morning's daily digest (08:00 local)
        await conn.execute(update(subscribers).values(last_digest_at=sent))
        await conn.execute(insert(push_subscriptions), [push_lease(PUSHED, "cb-hespress", NOW)])
        await conn.execute(insert(digests).values(
            id="d-dead", subscriber="slack-veille", created_at=NOW - timedelta(hours=5),
            state="dead", attempts=8, next_attempt_at=NOW - timedelta(hours=1),
            last_error="HTTP 410 Gone"))  # fmt: skip
        await conn.execute(insert(outbox), [
            {"subscriber": who, "article": row["article"], "item_id": n + 1,
             "rules": ["centres-appels"], "terms": {}, "created_at": row["seen_at"],
             "state": state, "digest_id": "d-dead" if state == "dead" else None}
            for n, row in enumerate(rows[:40])
            for who, state in (("direction", "sent" if n < 34 else "pending"),
                               ("slack-veille", "dead" if n >= 37 else "sent"))
        ])  # fmt: skip


async def overview(folder: Path, images: Path) -> Path:
    """Serve the overview's store from ``folder`` and write ``images``/overview.png."""
    async with serve_app(folder, config(), CLOCK) as served:
        await fill(served)
        async with browsing(served.url, folder) as visit:
            await visit.sign_in("analyste", USERS["analyste"])
            await visit.go("/?lang=en")
            await visit.page.set_viewport_size({"width": DESKTOP, "height": HEIGHT})
            path = images / "overview.png"  # (Playwright makes the folder)
            await visit.page.screenshot(path=str(path), full_page=True)
    return path


async def search(folder: Path, images: Path) -> Path:
    """Serve newsroom's store from ``folder`` and write ``images``/search.png."""
    store = newsroom.config()
    async with serve_app(folder, store, FakeClock(newsroom.T0)) as served:
        await newsroom.fill(served.engine, store)
        async with browsing(served.url, folder) as visit:
            await visit.sign_in("analyste", USERS["analyste"], "/items")
            await visit.page.set_viewport_size({"width": DESKTOP, "height": SEARCH_HEIGHT})
            await visit.go(SEARCH)
            path = images / "search.png"
            await visit.page.screenshot(path=str(path), full_page=True)
    return path


async def subscribe(folder: Path, images: Path) -> Path:
    """Serve the sign-up page from ``folder`` and write ``images``/subscribe.png (a phone)."""
    about = "Les modèles, leurs usages et leurs risques."
    async with serve_signup(folder, CLOCK, description=about) as served:
        async with browsing(served.url, folder) as visit:
            await visit.go("/subscribe?lang=fr")
            path = images / "subscribe.png"
            await visit.page.set_viewport_size({"width": PHONE, "height": HEIGHT})
            await visit.page.screenshot(path=str(path), full_page=True)
    return path


async def main(folder: Path, images: Path = IMAGES) -> list[Path]:
    """Write every picture of the docs into ``images``, their stores in ``folder``."""
    return [
        await overview(folder, images),
        await search(folder / "search", images),
        await subscribe(folder / "subscribe", images),
    ]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        written = asyncio.run(main(Path(scratch)))
    for path in written:
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")
    sys.exit(0)
