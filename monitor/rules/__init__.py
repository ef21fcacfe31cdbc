"""Keyword rules (DESIGN §3.3 and the rule language of :mod:`monitor.ruleconfig`): text
normalisation (``text``, ``words``, ``canonical``), term syntax and search (``syntax``,
``automaton``, ``regex``), the compiled matcher and its explanations (``conditions``, ``plans``,
``matcher``), highlighting (``spans``). Import from the submodules: the rule configuration
imports ``syntax``.

``make install`` compiles the submodules with mypyc (setup.py); Python then imports the
compiled twin beside each source. A twin older than its source (sources updated, ``make
install`` not run again) would run old code beside new, so importing the package refuses it.
"""

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path


def stale_twins() -> list[str]:
    """The submodules whose compiled twin for this Python is older than their source."""
    here, suffix = Path(__file__).parent, EXTENSION_SUFFIXES[0]
    stale = []
    for source in sorted(here.glob("*.py")):
        twin = source.with_name(source.stem + suffix)
        if twin.exists() and twin.stat().st_mtime < source.stat().st_mtime:
            stale.append(source.name)
    return stale


if _stale := stale_twins():
    raise ImportError(
        f"{Path(__file__).parent}: the compiled {', '.join(_stale)} predate their source; "
        "run `make install` to compile them again (or `make clean` to run without)"
    )
