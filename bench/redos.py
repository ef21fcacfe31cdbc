"""Regular-expression terms cannot hang the daemon: catastrophic patterns timed on RE2 (what
``/pattern/flags`` terms run on) beside Python's backtracking ``re``.

Run: ``.venv/bin/python -m bench.redos``. Prints, for each pattern, the time of one search
over hostile texts of growing length. The goal (issue 5): at most 100 ms per item, whatever the
pattern; RE2 is linear in the text, so the figure to watch is its time on a 100,000-character
item (the largest text a field of a stored item keeps).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from monitor.terms.regex import compile_regex

# (term as configured, hostile text for a length n): each backtracks exponentially in ``re``
CASES: list[tuple[str, str, str]] = [
    ("/(a+)+$/", "a", "!"),
    ("/(a|aa)+$/", "a", "!"),
    ("/(\\w+\\s?)+$/", "mot ", "!"),
    ("/^(([a-z])+.)+[A-Z]([a-z])+$/", "aaaa", "!"),
]
RE_LIMIT = 1.0  # seconds: the backtracking engine is stopped growing past this


def best_of(search: Callable[[str], object], text: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        search(text)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    print(f"{'pattern':34} {'engine':6} {'text chars':>10} {'one search':>12}")
    worst_re2 = 0.0
    for term, unit, tail in CASES:
        pattern = term[1 : term.rindex("/")]
        backtracking = re.compile(pattern)
        texts = dict.fromkeys(unit * (n // len(unit)) + tail for n in range(16, 64, 2))
        for text in texts:  # the time doubles every character or two
            seconds = best_of(backtracking.search, text, runs=1)
            print(f"{term:34} {'re':6} {len(text):>10} {seconds * 1000:>10.1f}ms")
            if seconds > RE_LIMIT:
                print(f"{'':34} {'re':6} {'(longer texts not tried: exponential)':>24}")
                break
        linear = compile_regex(term)
        for size in (1_000, 10_000, 100_000, 1_000_000):
            text = unit * (size // len(unit)) + tail
            seconds = best_of(linear.search, text)
            if len(text) <= 100_001:
                worst_re2 = max(worst_re2, seconds)
            print(f"{term:34} {'re2':6} {len(text):>10} {seconds * 1000:>10.3f}ms")
    verdict = "met" if worst_re2 <= 0.1 else "NOT met"
    print(f"\nworst RE2 search on a text of up to 100,000 characters: {worst_re2 * 1000:.2f} ms")
    print(f"goal: a hostile pattern costs at most 100 ms per item: {verdict}")


if __name__ == "__main__":
    main()
