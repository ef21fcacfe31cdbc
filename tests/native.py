"""The compiled twins of monitor/rules (mypyc, setup.py): which modules have one for this
Python, and which are older than their source (an edit since the last ``make install``)."""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

RULES = Path(__file__).resolve().parent.parent / "monitor" / "rules"
SUFFIX = EXTENSION_SUFFIXES[0]  # .cpython-311-x86_64-linux-gnu.so: this interpreter's


def sources() -> list[Path]:
    """The modules setup.py compiles."""
    return sorted(path for path in RULES.glob("*.py") if path.name != "__init__.py")


def twin(source: Path) -> Path:
    return source.with_name(source.stem + SUFFIX)


def stale() -> list[str]:
    """The modules whose compiled twin is older than their source: Python would import the
    twin and run old code."""
    return [
        source.name
        for source in sources()
        if twin(source).exists() and twin(source).stat().st_mtime < source.stat().st_mtime
    ]
