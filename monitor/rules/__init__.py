"""Keyword rules (DESIGN §3.3 and the rule language of :mod:`monitor.ruleconfig`): text
normalisation (``text``, ``words``, ``canonical``), term syntax and search (``syntax``,
``automaton``, ``regex``), the compiled matcher and its explanations (``conditions``, ``plans``,
``matcher``), highlighting (``spans``). Import from the submodules: the rule configuration
imports ``syntax``.

``make install`` compiles the submodules with mypyc (setup.py); Python then imports the
compiled twin beside each source. Compiled from other sources than those here, they are
refused (:mod:`monitor.native`).
"""

from pathlib import Path

from monitor.native import stale_sources

if _stale := stale_sources():
    raise ImportError(
        f"{Path(__file__).parent}: compiled from other sources than {', '.join(_stale)} as they "
        "are now; run `make install` to compile again (or delete monitor/rules/*.so to run "
        "plain Python)"
    )
