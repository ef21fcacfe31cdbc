"""The script behind the screenshots of README.md and docs/webapp.md (tests/support/docshots.py)
still runs: the overview of its store, every source and subscriber on it, and a search of the
articles with French and Arabic titles and the terms marked, each 1280 px wide, and the sign-up
page on a 375 px phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import read_png
from tests.support.docshots import main

pytestmark = pytest.mark.browser
MARK = bytes.fromhex("ffe08a")  # <mark>'s background in static/app.css


async def test_the_docs_screenshots_are_made_whole(tmp_path: Path) -> None:
    overview, search, subscribe = await main(tmp_path / "store", tmp_path / "images")
    assert [overview.name, search.name, subscribe.name] == [
        "overview.png",
        "search.png",
        "subscribe.png",
    ]
    phone = read_png(subscribe.read_bytes())
    assert phone.width == 375 and len(phone.colours()) >= 20
    image = read_png(overview.read_bytes())
    assert image.width == 1280 and image.height > 1200  # the whole page: subscribers too
    assert len(image.colours()) >= 50
    found = read_png(search.read_bytes())
    assert found.width == 1280 and 600 < found.height < 1200  # three articles, no blank page
    assert any(pixel[:3] == MARK for pixel in found.colours())  # the terms are marked
    assert search.stat().st_size < 200_000  # small enough for a README
