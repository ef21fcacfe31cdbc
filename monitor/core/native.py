"""Where the compiled matcher lives, and whether it may be used.

``make install`` compiles ``monitor/rules`` and ``monitor/terms`` with mypyc (setup.py) into
``build/native``, outside the source tree: CPython imports an extension module before the
``.py`` beside it, so compiled files next to the sources would shadow every later edit. Each of
the two packages puts its folder of the build first on its ``__path__`` only while the build
matches the sources it was made from (a digest of each, recorded by setup.py in
:data:`BUILT_FROM`); otherwise (sources edited, pulled, or no build at all) they run as plain
Python, the same code, slower, with one warning. Compiled files found beside the sources (an
older in-place build) would run instead of them: the import is refused. Digests, not file
times: a copy or a checkout changes times, not contents."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from functools import cache
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent
RULES = PACKAGE / "rules"
COMPILED_PACKAGES = ("rules", "terms")  # the matcher, and the rule language's words
SOURCES = tuple(PACKAGE / name for name in COMPILED_PACKAGES)
# the checkout's build folder (an installed wheel has none: it runs plain Python)
BUILD = PACKAGE.parent / "build" / "native"
COMPILED = BUILD / "monitor" / "rules"  # (the shared library lives there)
BUILT_FROM = COMPILED / "_native_sources.json"
SUFFIX = EXTENSION_SUFFIXES[0]


class StaleBuildWarning(RuntimeWarning):
    """The compiled matcher was built from other sources: plain Python runs instead."""


# not compiled: ``__init__`` chooses between the two; ``language`` loads a model with numpy on
# first use, which compiled code would not make faster; ``trial`` (rules tried before they are
# put in force) calls the compiled matcher and only arranges what it finds
PLAIN = ("__init__.py", "language.py", "trial.py")


def compiled_sources() -> list[Path]:
    """The modules setup.py compiles."""
    return sorted(
        path for folder in SOURCES for path in folder.glob("*.py") if path.name not in PLAIN
    )


# ``from monitor.x import …`` and ``import monitor.x`` at the start of a line, as the Makefile's
# sed finds them: scanned, not parsed, since every start of the program checks the build (ast
# took 60 ms of `monitor check`'s start)
_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+(monitor(?:\.\w+)*)\b", re.MULTILINE)


def _imported(path: Path) -> set[str]:
    """The ``monitor`` modules ``path`` imports (what mypyc compiled it against)."""
    return set(_IMPORT.findall(path.read_text(encoding="utf-8")))


def _module_file(name: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def dependencies() -> list[Path]:
    """Every file the compiled code depends on: the compiled modules and the ``monitor``
    modules they import (their types are compiled in)."""
    compiled = compiled_sources()
    imported = {module for path in compiled for module in _imported(path)}
    compiled_names = tuple(f"monitor.{name}" for name in COMPILED_PACKAGES)
    others = {_module_file(name) for name in imported if not name.startswith(compiled_names)}
    return sorted({*compiled, *(path for path in others if path is not None)})


def digests() -> dict[str, str]:
    """A digest of each file the compiled code depends on, by its path in the checkout."""
    return {
        path.relative_to(PACKAGE.parent).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in dependencies()
    }


def is_built() -> bool:
    return any(COMPILED.glob("*" + SUFFIX))


def stale_sources() -> list[str]:
    """The files that differ from those the build was made from (none when there is no build;
    all when its record is missing)."""
    if not is_built():
        return []
    try:
        built = json.loads(BUILT_FROM.read_text())
    except (OSError, ValueError):
        built = {}
    return [name for name, digest in digests().items() if built.get(name) != digest]


def compiled_path(package: str) -> list[str]:
    """The folder to put first on ``monitor.<package>.__path__``: its build when the build
    matches the sources, else nothing (and one warning per process when the build is stale)."""
    return [str(BUILD / "monitor" / package)] if _usable() else []


@cache
def _usable() -> bool:
    beside = sorted(
        path.relative_to(PACKAGE).as_posix()
        for folder in SOURCES
        for path in folder.glob("*" + SUFFIX)
    )
    if beside:  # an older ``make install`` compiled in place: CPython would import those
        # before the sources beside them, whatever this returns
        raise ImportError(
            f"compiled matcher files beside the sources ({', '.join(beside)}) would run "
            "instead of them: run `make install` (it removes them), or delete them"
        )
    if not is_built():
        return False
    if stale := stale_sources():
        warnings.warn(
            f"compiled matcher in {BUILD} built from other sources than "
            f"{', '.join(stale)} as they are now; running plain Python "
            "(`make install` compiles again)",
            StaleBuildWarning,
            stacklevel=4,
        )
        return False
    return True
