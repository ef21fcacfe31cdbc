"""Precision and recall of story clustering (monitor.digest.stories.same_story) on the
labelled pairs.

Usage: ``.venv/bin/python -m bench.cluster [--pairs PATH] [--verbose]``. Prints precision and
recall on the pairs in one language (what same_story claims to do), on the pairs in two languages
(same_story merges none, on purpose) and on all pairs, then every misclassified pair. Exit status
0 when precision and recall on the one-language pairs are both at least the goal (0.95), else 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from monitor.core.models import DigestItem
from monitor.digest.stories import cluster, same_story

PAIRS = Path(__file__).resolve().parent.parent / "tests" / "data" / "headline-pairs.yaml"
GOAL = 0.95


@dataclass(frozen=True, slots=True)
class Outcome:
    pair: dict[str, Any]
    predicted: bool

    @property
    def correct(self) -> bool:
        return self.predicted == bool(self.pair["same"])


@dataclass(frozen=True, slots=True)
class Scores:
    true_pos: int
    false_pos: int
    false_neg: int
    true_neg: int

    @property
    def precision(self) -> float:
        predicted = self.true_pos + self.false_pos
        return self.true_pos / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_pos + self.false_neg
        return self.true_pos / actual if actual else 1.0


def load(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs: list[dict[str, Any]] = data["pairs"]
    return pairs


def score(outcomes: Sequence[Outcome]) -> Scores:
    def count(same: bool, predicted: bool) -> int:
        return sum(1 for o in outcomes if bool(o.pair["same"]) == same and o.predicted == predicted)

    return Scores(count(True, True), count(False, True), count(True, False), count(False, False))


def line(name: str, outcomes: Sequence[Outcome]) -> str:
    s = score(outcomes)
    return (
        f"{name:<16} pairs {len(outcomes):>3}  same {s.true_pos + s.false_neg:>3}  "
        f"precision {s.precision:.3f}  recall {s.recall:.3f}  "
        f"(tp {s.true_pos}, fp {s.false_pos}, fn {s.false_neg}, tn {s.true_neg})"
    )


def timed_cluster(pairs: Sequence[dict[str, Any]], size: int = 200) -> float:
    """Seconds cluster() takes on a digest of ``size`` items made of the labelled titles."""
    titles = list(dict.fromkeys(title for pair in pairs for title in (pair["a"], pair["b"])))
    start = datetime(2026, 8, 3, 7, 0, tzinfo=UTC)
    items = [
        DigestItem(f"i{n}", title, f"https://s{n % 7}.example/{n}", f"s{n % 7}",
                   start + timedelta(minutes=n), "", ("rule",))
        for n, title in enumerate((titles * (size // len(titles) + 1))[:size])
    ]  # fmt: skip
    started = time.perf_counter()
    cluster(items)
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--verbose", action="store_true", help="also list the two-language pairs")
    args = parser.parse_args(argv)
    pairs = load(args.pairs)
    started = time.perf_counter()
    outcomes = [Outcome(pair, same_story(pair["a"], pair["b"])) for pair in pairs]
    elapsed = time.perf_counter() - started
    one_language = [o for o in outcomes if not o.pair.get("lang")]
    two_languages = [o for o in outcomes if o.pair.get("lang")]
    print(f"{len(pairs)} labelled pairs from {args.pairs} ({elapsed * 1000:.0f} ms)")
    print(line("one language", one_language))
    print(line("two languages", two_languages))
    print(line("all", outcomes))
    for name in sorted({str(o.pair.get("set", "tuning")) for o in one_language}):
        print(line(f"  {name}", [o for o in one_language if o.pair.get("set", "tuning") == name]))
    kinds = sorted({str(o.pair.get("kind", "-")) for o in one_language})
    for kind in kinds:
        wrong = sum(1 for o in one_language if o.pair.get("kind", "-") == kind and not o.correct)
        total = sum(1 for o in one_language if o.pair.get("kind", "-") == kind)
        print(f"  {kind:<14} {total - wrong:>3}/{total} right")
    shown = outcomes if args.verbose else one_language
    wrong_ones = [o for o in shown if not o.correct]
    print(f"\nmisclassified ({len(wrong_ones)}):" if wrong_ones else "\nmisclassified: none")
    for o in wrong_ones:
        verdict = "merged, different stories" if o.predicted else "not merged, same story"
        lang = f" [{o.pair['lang']}]" if o.pair.get("lang") else ""
        print(f"- {verdict}{lang} ({o.pair.get('note', '')})")
        print(f"    a: {o.pair['a']}\n    b: {o.pair['b']}")
    if not args.verbose and any(not o.correct for o in two_languages):
        missed = sum(1 for o in two_languages if not o.correct)
        print(f"\n({missed} two-language pairs not merged by design; --verbose lists them)")
    print(f"\ncluster() on 200 items: {timed_cluster(pairs) * 1000:.0f} ms")
    s = score(one_language)
    ok = s.precision >= GOAL and s.recall >= GOAL
    print(
        f"\ngoal precision and recall >= {GOAL} on one-language pairs: {'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
