"""bench/web.py run small (2,000 items): it fills a store as the poll path indexes it, serves
the real app, signs in and times every case; what each search finds is as the fill made it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import web


@pytest.mark.slow
@pytest.mark.parametrize(
    "store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_small_run_times_every_case(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # (its own database name: a run of the benchmark on the machine keeps its own)
    monkeypatch.setattr(web, "DATABASE", f"monitor_bench_web_test_{store}")
    web.main(["--items", "2000", "--store", store, "--requests", "2"])  # (times: not asserted)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2,000 items, 20 sources;") and "cores" in lines[0]
    cells = [re.split(r"\s{2,}", line) for line in lines[2:]]  # (columns: 2 spaces apart)
    found = {row[1]: row[2:] for row in cells if row[0] == store}
    assert len(found) == 13
    # first page of 50: a rare word (2 items), Maroc (a third), the phrase and the prefix
    # (one in a hundred), with the last 3 days of 30
    counts = {case: row[0] for case, row in found.items()}
    assert counts["rare word"] == "2" and counts["Maroc"] == "50"
    assert counts["phrase"] == counts["prefix"] == "20"
    assert counts["phrase + date"] == "2" and counts["overview /"] == "-"
