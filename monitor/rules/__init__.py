"""Keyword rules (DESIGN §3.3 and the rule language of :mod:`monitor.config.rules`): text
normalisation (``text``, ``words``, ``canonical``), term syntax and search (``syntax``,
``automaton``, ``regex``), the compiled matcher and its explanations (``conditions``, ``plans``,
``matcher``), highlighting (``spans``). Import from the submodules: the rule configuration
imports ``syntax``.

``make install`` compiles the submodules with mypyc into ``build/native`` (setup.py); that
folder comes first on this package's path only while it was built from the sources as they are
(:mod:`monitor.core.native`), so an edited checkout always imports, as plain Python.
"""

from monitor.core.native import compiled_path

__path__[:0] = compiled_path("rules")
