"""The matcher runs compiled (mypyc, setup.py; `make install` builds it into build/native): the
whole suite then tests the code the daemon runs, and bench/matching.py measures it. A build
made from other sources than those in the tree is set aside: the checkout imports as plain
Python, with one warning (monitor/rules/native.py)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.rules.native import BUILD, COMPILED, RULES, SUFFIX, compiled_sources, stale_sources

pytestmark = pytest.mark.native


def test_every_rules_module_is_imported_compiled_from_the_build() -> None:
    files = {
        source.name: str(importlib.import_module(f"monitor.rules.{source.stem}").__file__)
        for source in compiled_sources()
    }
    interpreted = [name for name, file in files.items() if not file.endswith(SUFFIX)]
    assert not interpreted, (
        f"monitor/rules runs {', '.join(interpreted)} as plain Python: run `make install`, "
        "which compiles them with mypyc (it needs a C compiler and the Python headers)"
    )
    # (mypyc names some of them as if nested one package deeper: the folder is what counts)
    assert all(file.startswith(f"{COMPILED}/") for file in files.values())


def test_the_build_was_made_from_the_sources_in_the_tree() -> None:
    assert stale_sources() == []


def test_nothing_compiled_lies_beside_the_sources() -> None:
    """CPython would import it before the .py beside it, whatever the edits."""
    assert not list(RULES.glob("*" + SUFFIX))


def importing(checkout: Path) -> subprocess.CompletedProcess[str]:
    """``import monitor.rules.matcher`` from ``checkout`` (a copy of the package and build)."""
    command = [sys.executable, "-c", "import monitor.rules.matcher as m; print(m.__file__)"]
    return subprocess.run(command, cwd=checkout, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_an_edited_checkout_imports_as_plain_python_with_one_warning(tmp_path: Path) -> None:
    """Sources changed without `make install` (a pull, an edit, a comment): the package still
    imports, runs the sources as they are, and says once why it is slower. A copy with other
    file times but the same contents still runs the build."""
    shutil.copytree(
        RULES.parent, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(BUILD, tmp_path / "build" / "native")
    for path in (tmp_path / "monitor").rglob("*.py"):
        os.utime(path, (2_000_000_000, 2_000_000_000))  # newer than the compiled files
    fine = importing(tmp_path)
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout.strip() == str(tmp_path / "build/native/monitor/rules/matcher") + SUFFIX
    assert fine.stderr == ""
    errors = tmp_path / "monitor" / "core" / "errors.py"  # compiled against, not compiled
    errors.write_text(errors.read_text() + "\n# a comment\n")
    edited = importing(tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.strip() == str(tmp_path / "monitor/rules/matcher.py")
    assert edited.stderr.count("StaleBuildWarning") == 1
    assert "built from other sources than monitor/core/errors.py as they are now" in edited.stderr
    assert "`make install` compiles again" in edited.stderr


def test_a_checkout_without_a_build_imports_silently(tmp_path: Path) -> None:
    shutil.copytree(
        RULES.parent, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__")
    )
    bare = importing(tmp_path)
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout.strip() == str(tmp_path / "monitor/rules/matcher.py")
    assert bare.stderr == ""
