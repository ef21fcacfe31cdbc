"""The script behind docs/webapp.md's screenshot (tests/support/docshots.py) still runs: the
overview of its store, 1280 px wide, every source and subscriber on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import read_png
from tests.support.docshots import main

pytestmark = pytest.mark.browser


async def test_the_docs_screenshot_is_made_whole(tmp_path: Path) -> None:
    path = await main(tmp_path / "store", tmp_path / "images")
    image = read_png(path.read_bytes())
    assert image.width == 1280 and image.height > 1200  # the whole page: subscribers too
    assert len(image.colours()) >= 50
