"""The matcher runs compiled (mypyc, setup.py; `make install` builds it): the whole suite then
tests the code the daemon runs, and bench/matching.py measures it."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from monitor.rules import stale_twins
from tests.native import RULES, SUFFIX, sources


def test_every_rules_module_is_imported_compiled() -> None:
    interpreted = [
        source.name
        for source in sources()
        if not str(importlib.import_module(f"monitor.rules.{source.stem}").__file__).endswith(
            SUFFIX
        )
    ]
    assert not interpreted, (
        f"monitor/rules runs {', '.join(interpreted)} as plain Python: run `make install`, "
        "which compiles them with mypyc (it needs a C compiler and the Python headers)"
    )


def test_no_compiled_module_is_older_than_its_source() -> None:
    assert stale_twins() == []


def test_a_compiled_module_older_than_its_source_is_refused(tmp_path: Path) -> None:
    """Sources updated without ``make install``: the package refuses to import rather than
    run old compiled code beside new (a copy of the package, made to look so)."""
    copy = tmp_path / "monitor"
    shutil.copytree(RULES.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    rules = copy / "rules"
    twin = rules / ("matcher" + SUFFIX)
    twin.write_bytes(b"")  # its content does not matter: the check reads times only
    os.utime(twin, (1_000_000_000, 1_000_000_000))
    command = [sys.executable, "-c", "import monitor.rules"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "the compiled matcher.py predate their source" in result.stderr
    assert "run `make install`" in result.stderr
