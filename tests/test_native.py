"""The matcher runs compiled (mypyc, setup.py; `make install` builds it): the whole suite then
tests the code the daemon runs, and bench/matching.py measures it."""

from __future__ import annotations

import importlib

from tests.native import SUFFIX, sources, stale


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
    assert stale() == []
