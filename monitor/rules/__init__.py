"""Keyword rules (DESIGN §3.3 and the rule language of :mod:`monitor.ruleconfig`): text
normalisation (``text``, ``words``), term syntax and search (``syntax``, ``regex``, ``terms``),
the compiled matcher and its explanations (``conditions``, ``matcher``), highlighting
(``spans``). Import from the submodules: the rule configuration imports ``syntax``."""
