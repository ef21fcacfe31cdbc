"""The screenshot of a subscriber's preferences page in docs/subscribers.md
(docs/images/preferences.png, 375 px wide: the page is read on a phone, from a digest), served
by a real App on a fixed fake clock, a configured subscriber who chose a weekly digest.

Regenerate it, after a change to the page's look, with (Chromium and the dev extras, as for
`make test`)::

    .venv/bin/python -m tests.support.prefshot
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from monitor.config.model import Config
from monitor.daemon.app import App
from monitor.daemon.serving import serve_http
from monitor.web.unsubscribe import Purpose, make_token
from tests.support.browsing import HEIGHT, PHONE, browsing
from tests.support.paths import ROOT
from tests.support.peers import FakeClock

IMAGES = ROOT / "docs" / "images"
CLOCK = FakeClock()
ADDRESS = "direction@example.org"


def config(folder: Path) -> Config:
    rules = [
        ("centres-appels", "Centres d'appels", "Emploi, délocalisation, conditions de travail"),
        ("demarchage", "Démarchage téléphonique", "Appels non sollicités et leur encadrement"),
        ("ia", "Intelligence artificielle", "Les usages de l'IA au Maroc"),
    ]
    return Config.model_validate({
        "storage": f"sqlite:///{folder}/monitor.db",
        "timezone": "Africa/Casablanca",
        "sources": [{"name": "le360", "url": "https://fr.le360.ma/rss"}],
        "rules": [
            {"name": n, "any": [label], "label": label, "description": about}
            for n, label, about in rules
        ],
        "smtp": {"host": "smtp.example.org", "port": 587, "from": "veille@example.org"},
        "subscribers": [
            {"name": "direction", "email": ADDRESS, "digest": "daily 08:00",
             "rules": ["centres-appels", "demarchage"]},
        ],
        "http": {"listen": "127.0.0.1:0", "base_url": "https://veille.example.org",
                 "signup": {"rules": ["demarchage", "ia"]}},
    })  # fmt: skip


async def main(folder: Path, images: Path = IMAGES) -> Path:
    """Write ``images``/preferences.png, the store in ``folder``."""
    async with App(config(folder), clock=CLOCK) as app:
        port = await serve_http(app)
        await app.book.choose("direction", ADDRESS, {"digest": "weekly mon 08:00"}, CLOCK.now)
        token = make_token(app.token_key, "direction", ADDRESS, CLOCK.now, Purpose.PREFERENCES)
        async with browsing(f"http://127.0.0.1:{port}", folder) as visit:
            await visit.page.set_viewport_size({"width": PHONE, "height": HEIGHT[PHONE]})
            await visit.go(f"/preferences/{token}")
            path = images / "preferences.png"  # (Playwright makes the folder)
            await visit.page.screenshot(path=str(path), full_page=True)
    return path


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        written = asyncio.run(main(Path(scratch)))
    print(f"wrote {written.relative_to(ROOT)} ({written.stat().st_size // 1024} KiB)")
    sys.exit(0)
