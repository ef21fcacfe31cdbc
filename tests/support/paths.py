"""Where tests find the checkout, their data and the example configuration, wherever the test
module lies under tests/."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent  # the checkout
DATA = TESTS / "data"
