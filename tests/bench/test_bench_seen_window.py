"""bench/seen_window.py stays usable: on a small SQLite store, a simulated 100 days with the
seen-window keep about 90 days of items and the identities of the others, and without it every
item; a line of sizes each report."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench.seen_window import simulate


@pytest.mark.slow
async def test_the_bench_prunes_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(sources=2, per_day=3, days=100, report=50)
    await simulate(f"sqlite:///{tmp_path}/pruned.db", args, prune=True)
    await simulate(f"sqlite:///{tmp_path}/kept.db", args, prune=False)
    lines = [line.split() for line in capsys.readouterr().out.splitlines() if " day " in line]
    # label, day, then "items N rows" and "identities N rows" further on
    found = {(words[0], words[2]): (words[words.index("items") + 1], words[-4]) for words in lines}
    assert found == {
        ("prune", "50:"): ("300", "0"),
        # days 0 to 9 (first seen before day 99.5 - 90) went: 10 days x 6 items, their 60
        # identities left, and 2 records of what was sent of them (1 item in 20, by key)
        ("prune", "100:"): ("540", "62"),
        ("keep", "50:"): ("300", "0"),
        ("keep", "100:"): ("600", "0"),
    }
