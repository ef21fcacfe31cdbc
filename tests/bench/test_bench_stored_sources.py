"""bench/stored_sources.py stays usable: on a small SQLite store its three loads say what they
changed and it times a claim's read of definitions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.stored_sources import run


async def test_the_bench_loads_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await run(400, postgres=False, folder=tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "400 sources, 0.0 MB of CSV, SQLite"
    assert lines[1].endswith("[400 added]")
    assert lines[2].endswith("[400 unchanged]")
    assert lines[3].endswith("[4 changed, 392 unchanged, 4 removed]")
    assert lines[4].startswith("  a claim's 40 definitions: ")
