"""Keyword rules (DESIGN §3.3 and the rule language of :mod:`monitor.config.rules`): text as
the matcher compares it (``canonical``), the search of every term at once (``automaton``),
the compiled matcher and its explanations (``conditions``, ``plans``, ``matcher``),
highlighting (``spans``) and language detection (``language``). The words of the rule
language — folding, spellings, regex terms, term syntax — are :mod:`monitor.terms`, below the
configuration that validates terms. Import from the submodules.

``make install`` compiles the submodules with mypyc into ``build/native`` (setup.py); that
folder comes first on this package's path only while it was built from the sources as they are
(:mod:`monitor.core.native`), so an edited checkout always imports, as plain Python.
"""

from monitor.core.native import compiled_path

__path__[:0] = compiled_path("rules")
