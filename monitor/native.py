"""Which sources the compiled matcher was built from (``make install`` compiles monitor/rules
with mypyc, setup.py). Compiled code built from other sources than those in the tree (sources
changed, ``make install`` not run again) would run old code beside new: :mod:`monitor.rules`
refuses to import then. setup.py records a digest of every source it compiled from
(:data:`BUILT_FROM`); here they are compared with the sources as they are. Digests, not file
times: a copy or a checkout changes times, not contents."""

from __future__ import annotations

import hashlib
import json
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

RULES = Path(__file__).parent / "rules"
BUILT_FROM = RULES / "_native_sources.json"
# what mypyc compiled against besides the package's own modules
OTHER_SOURCES = ("models.py", "ruleconfig.py", "errors.py")


def compiled_sources() -> list[Path]:
    """The modules setup.py compiles (not ``__init__``: imported to find the shared library,
    which lives in the package)."""
    return sorted(path for path in RULES.glob("*.py") if path.name != "__init__.py")


def digests() -> dict[str, str]:
    """A digest of each file the compiled code depends on."""
    paths = compiled_sources() + [RULES.parent / name for name in OTHER_SOURCES]
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in paths}


def stale_sources() -> list[str]:
    """The files that differ from those the compiled modules were built from (none when
    nothing is compiled; all when the record is missing)."""
    if not any(RULES.glob("*" + EXTENSION_SUFFIXES[0])):
        return []
    try:
        built = json.loads(BUILT_FROM.read_text())
    except (OSError, ValueError):
        built = {}
    return [name for name, digest in digests().items() if built.get(name) != digest]
