"""The matcher runs compiled (mypyc, setup.py; `make install` builds it into build/native): the
whole suite then tests the code the daemon runs, and bench/matching.py measures it. A build
made from other sources than those in the tree is set aside: the checkout imports as plain
Python, with one warning (monitor/core/native.py)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.core.native import BUILD, PACKAGE, SOURCES, SUFFIX, compiled_sources, stale_sources

pytestmark = pytest.mark.native


def test_every_rules_module_is_imported_compiled_from_the_build() -> None:
    files = {
        source: str(importlib.import_module(f"monitor.{source.parent.name}.{source.stem}").__file__)
        for source in compiled_sources()
    }
    interpreted = [source.name for source, file in files.items() if not file.endswith(SUFFIX)]
    assert not interpreted, (
        f"monitor runs {', '.join(interpreted)} as plain Python: run `make install`, "
        "which compiles them with mypyc (it needs a C compiler and the Python headers)"
    )
    # (mypyc names some as if nested under its shared library's folder: the build is what counts)
    assert all(file.startswith(f"{BUILD}/") for file in files.values())


def test_the_build_was_made_from_the_sources_in_the_tree() -> None:
    assert stale_sources() == []


def test_nothing_compiled_lies_beside_the_sources() -> None:
    """CPython would import it before the .py beside it, whatever the edits."""
    assert not [path for folder in SOURCES for path in folder.glob("*" + SUFFIX)]


def importing(checkout: Path) -> subprocess.CompletedProcess[str]:
    """The files of ``monitor.rules.matcher`` and ``monitor.terms.syntax`` imported from
    ``checkout`` (a copy of the package and build), a line each."""
    code = "import monitor.rules.matcher as m, monitor.terms.syntax as s\n"
    code += "print(m.__file__, s.__file__)"
    command = [sys.executable, "-c", code]
    return subprocess.run(command, cwd=checkout, capture_output=True, text=True, check=False)


@pytest.mark.slow
def test_an_edited_checkout_imports_as_plain_python_with_one_warning(tmp_path: Path) -> None:
    """Sources changed without `make install` (a pull, an edit, a comment): the package still
    imports, runs the sources as they are, and says once why it is slower. A copy with other
    file times but the same contents still runs the build."""
    shutil.copytree(PACKAGE, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(BUILD, tmp_path / "build" / "native")
    for path in (tmp_path / "monitor").rglob("*.py"):
        os.utime(path, (2_000_000_000, 2_000_000_000))  # newer than the compiled files
    fine = importing(tmp_path)
    assert fine.returncode == 0, fine.stderr
    files = fine.stdout.split()
    assert len(files) == 2
    assert all(f.startswith(f"{tmp_path}/build/native/") and f.endswith(SUFFIX) for f in files)
    assert fine.stderr == ""
    errors = tmp_path / "monitor" / "core" / "errors.py"  # compiled against, not compiled
    errors.write_text(errors.read_text() + "\n# a comment\n")
    edited = importing(tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.split() == [
        str(tmp_path / f"monitor/{name}.py") for name in ("rules/matcher", "terms/syntax")
    ]
    assert edited.stderr.count("StaleBuildWarning") == 1
    assert "built from other sources than monitor/core/errors.py as they are now" in edited.stderr
    assert "`make install` compiles again" in edited.stderr


def test_a_checkout_without_a_build_imports_silently(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    bare = importing(tmp_path)
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout.split() == [
        str(tmp_path / f"monitor/{name}.py") for name in ("rules/matcher", "terms/syntax")
    ]
    assert bare.stderr == ""


@pytest.mark.slow
def test_compiled_files_beside_the_sources_are_refused(tmp_path: Path) -> None:
    """An older checkout's in-place build would shadow the sources whatever the path says."""
    shutil.copytree(PACKAGE, tmp_path / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "monitor" / "terms" / f"syntax{SUFFIX}").write_bytes(b"")
    refused = importing(tmp_path)
    assert refused.returncode == 1
    assert f"compiled matcher files beside the sources (terms/syntax{SUFFIX})" in refused.stderr
    assert "run `make install` (it removes them)" in refused.stderr
