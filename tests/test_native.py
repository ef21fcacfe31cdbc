"""The matcher runs compiled (mypyc, setup.py; `make install` builds it): the whole suite then
tests the code the daemon runs, and bench/matching.py measures it. Compiled code built from
other sources than those in the tree is refused (monitor/native.py)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from monitor.native import RULES, compiled_sources, stale_sources

SUFFIX = EXTENSION_SUFFIXES[0]


def test_every_rules_module_is_imported_compiled() -> None:
    interpreted = [
        source.name
        for source in compiled_sources()
        if not str(importlib.import_module(f"monitor.rules.{source.stem}").__file__).endswith(
            SUFFIX
        )
    ]
    assert not interpreted, (
        f"monitor/rules runs {', '.join(interpreted)} as plain Python: run `make install`, "
        "which compiles them with mypyc (it needs a C compiler and the Python headers)"
    )


def test_the_compiled_modules_were_built_from_the_sources_in_the_tree() -> None:
    assert stale_sources() == []


def importing(package: Path) -> subprocess.CompletedProcess[str]:
    """``import monitor.rules`` from a copy of the package in ``package``'s folder."""
    command = [sys.executable, "-c", "import monitor.rules.matcher as m; print(m.__file__)"]
    return subprocess.run(command, cwd=package.parent, capture_output=True, text=True, check=False)


def test_compiled_code_is_refused_once_a_source_it_was_built_from_changes(
    tmp_path: Path,
) -> None:
    """Sources updated without ``make install`` (a pull, an edit): the package refuses to
    import rather than run old compiled code beside new. A copy with other file times but
    the same contents is fine."""
    copy = tmp_path / "monitor"
    shutil.copytree(RULES.parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*.py"):
        os.utime(path, (2_000_000_000, 2_000_000_000))  # newer than the compiled files
    fine = importing(copy)
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout.strip().endswith(SUFFIX)
    models = copy / "models.py"  # compiled against, not compiled
    models.write_text(models.read_text() + "\n# changed\n")
    refused = importing(copy)
    assert refused.returncode == 1
    assert "compiled from other sources than models.py as they are now" in refused.stderr
    assert "run `make install`" in refused.stderr
