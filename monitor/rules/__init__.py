"""Keyword rules (DESIGN §3.3): text normalisation, term search and the compiled matcher."""

from monitor.rules.matcher import Matcher
from monitor.rules.terms import find_spans, term_problem

__all__ = ["Matcher", "find_spans", "term_problem"]
