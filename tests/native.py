"""The compiled twins of monitor/rules (mypyc, setup.py) for this Python."""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

RULES = Path(__file__).resolve().parent.parent / "monitor" / "rules"
SUFFIX = EXTENSION_SUFFIXES[0]  # .cpython-311-x86_64-linux-gnu.so: this interpreter's


def sources() -> list[Path]:
    """The modules setup.py compiles."""
    return sorted(path for path in RULES.glob("*.py") if path.name != "__init__.py")
