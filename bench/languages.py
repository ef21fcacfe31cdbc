"""Accuracy and cost of language detection (monitor.rules.language) on the labelled headlines.

Usage: ``.venv/bin/python -m bench.languages [--data PATH] [--all-mistakes]``. Prints, for
several ways of choosing among the model's languages (the model alone, with a prior, limited to
the press languages, with a confidence threshold), the share of headlines detected right per
language; then what the misclassified headlines became, the chosen way per kind of hard case,
title alone against title and summary, and the cost: model load, memory, µs per detection.
Exit status 0 (it asserts nothing).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import timeit
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from monitor.rules import language
from monitor.rules.language import PRESS, PRESS_BONUS, RARE_PENALTY

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "headlines-languages.yaml"
ORDER = ("fr", "en", "es", "ar", "de", "pt", "it")
THRESHOLD = 0.5
SAMPLE = (  # about 250 characters, as detect_item() reads a title and its summary
    "Centres d'appels : le secteur réclame un délai avant l'interdiction du démarchage "
    "téléphonique. Les opérateurs de la relation client estiment que l'entrée en vigueur en "
    "août 2026 menace des milliers d'emplois à Casablanca, Rabat et Fès, selon la fédération."
)

Detector = Callable[[str], "str | None"]


def load(path: Path) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return items


def rss_mb() -> float | None:
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def with_prior(m: language.Model, prior: NDArray[np.float32]) -> Detector:
    def detect(text: str) -> str | None:
        scores = m.scores(text)
        return None if scores is None else m.best(scores, prior)

    return detect


def detectors(m: language.Model) -> dict[str, Detector]:
    """The ways of choosing compared, by name; "chosen" is what monitor.rules.language.detect
    does."""
    zeros = language.prior(m.labels, 0.0, 0.0)
    only_press = np.where([code in PRESS for code in m.codes], 0.0, -np.inf).astype(np.float32)

    def thresholded(text: str) -> str | None:
        # py3langid's probabilities: softmax of the scores over sqrt(bytes), its calibration
        scores = m.scores(text)
        if scores is None:
            return None
        scaled = scores / math.sqrt(len(text.encode("utf-8")))
        probabilities = np.exp(scaled - scaled.max())
        probabilities /= probabilities.sum()
        best = int(probabilities.argmax())
        return m.codes[best] if probabilities[best] >= THRESHOLD else None

    return {
        "model alone": with_prior(m, zeros),
        f"rare -{RARE_PENALTY:g}": with_prior(m, language.prior(m.labels, 0.0, RARE_PENALTY)),
        f"press +{PRESS_BONUS:g}": with_prior(m, language.prior(m.labels, PRESS_BONUS, 0.0)),
        "chosen": language.detect,
        "press only": with_prior(m, only_press),
        f"alone, p>={THRESHOLD}": thresholded,
    }


def accuracy_line(name: str, items: Sequence[dict[str, Any]], got: Sequence[str | None]) -> str:
    cells = []
    for lang in ORDER:
        pairs = [(i, g) for i, g in zip(items, got, strict=True) if i["lang"] == lang]
        if pairs:
            cells.append(f"{lang} {sum(i['lang'] == g for i, g in pairs) / len(pairs):.2f}")
    press = [(i, g) for i, g in zip(items, got, strict=True) if i["lang"] in PRESS]
    other = [(i, g) for i, g in zip(items, got, strict=True) if i["lang"] not in PRESS]
    right_press = sum(i["lang"] == g for i, g in press)
    right_other = sum(i["lang"] == g for i, g in other)
    none = sum(g is None for g in got)
    return (
        f"{name:<21} {'  '.join(cells)}  | press {right_press}/{len(press)}"
        + (f"  other {right_other}/{len(other)}" if other else "")
        + (f"  None {none}" if none else "")
    )


def confusion(items: Sequence[dict[str, Any]], got: Sequence[str | None]) -> str:
    wrong = Counter((i["lang"], g or "None") for i, g in zip(items, got, strict=True))
    parts = [f"{lang}->{g} {n}" for (lang, g), n in sorted(wrong.items()) if lang != g]
    return ", ".join(parts) or "none"


def per_call_us(function: Callable[[], object], number: int = 2000) -> float:
    """Median over 7 runs of ``number`` calls, in µs per call (the machine may be shared)."""
    runs = timeit.repeat(function, number=number, repeat=7)
    return statistics.median(runs) / number * 1e6


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument(
        "--all-mistakes", action="store_true", help="list every configuration's mistakes"
    )
    args = parser.parse_args(argv)
    items = load(args.data)
    counts = Counter(i["lang"] for i in items)
    print(f"{len(items)} labelled headlines from {args.data}")
    print("  " + ", ".join(f"{lang} {counts[lang]}" for lang in ORDER if counts[lang]))

    before = rss_mb()
    started = time.perf_counter()
    m = language.model()
    loaded = time.perf_counter() - started
    after = rss_mb()

    ways = detectors(m)
    results = {name: [detect(i["text"]) for i in items] for name, detect in ways.items()}
    print("\ntitles alone, share right per language:")
    for name, got in results.items():
        print(accuracy_line(name, items, got))
    print(f"\npress bonus (rare -{RARE_PENALTY:g}), right of {len(items)}: press / other")
    sweep = []
    for bonus in (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 8.0):
        detect = with_prior(m, language.prior(m.labels, bonus, RARE_PENALTY))
        got = [detect(i["text"]) for i in items]
        press = sum(i["lang"] == g for i, g in zip(items, got, strict=True) if i["lang"] in PRESS)
        other = sum(
            i["lang"] == g for i, g in zip(items, got, strict=True) if i["lang"] not in PRESS
        )
        sweep.append(f"+{bonus:g}: {press}/{other}")
    print("  " + "   ".join(sweep))
    print("\nwhat the mistakes became:")
    for name, got in results.items():
        print(f"{name:<21} {confusion(items, got)}")

    shown = results if args.all_mistakes else {"chosen": results["chosen"]}
    for name, got in shown.items():
        print(f"\nmisclassified, {name}:")
        for i, g in zip(items, got, strict=True):
            if g != i["lang"]:
                print(f"  {i['lang']} -> {g}: {i['text']}")

    chosen = results["chosen"]
    print("\nchosen, per kind of hard case:")
    for kind in sorted({str(i.get("kind", "-")) for i in items}):
        pairs = [(i, g) for i, g in zip(items, chosen, strict=True) if i.get("kind", "-") == kind]
        right = sum(i["lang"] == g for i, g in pairs)
        print(f"  {kind:<10} {right:>3}/{len(pairs)}")

    with_summary = [i for i in items if i.get("summary")]
    print(f"\ntitle alone against title and summary ({len(with_summary)} items with a summary):")
    for name in ("model alone", "chosen"):
        detect = ways[name]
        alone = [detect(i["text"]) for i in with_summary]
        both = [detect(language.item_text(i["text"], i["summary"], "")) for i in with_summary]
        print(accuracy_line(f"{name}, title", with_summary, alone))
        print(accuracy_line(f"{name}, +summary", with_summary, both))

    print("\ncost:")
    print(f"  model load (first detection): {loaded:.2f} s", end="")
    if before is not None and after is not None:
        print(f", resident memory +{after - before:.0f} MB", end="")
    print()
    title = "Le call center marocain mise sur l'IA"
    texts = [language.item_text(i["text"], i.get("summary", ""), "") for i in items]
    mean = sum(map(len, texts)) / len(texts)
    sample_us = per_call_us(lambda: language.detect(SAMPLE))
    title_us = per_call_us(lambda: language.detect(title))
    items_us = per_call_us(lambda: [language.detect(t) for t in texts], number=10) / len(texts)
    print(f"  detect(), {len(SAMPLE)} characters: {sample_us:.0f} µs")
    print(f"  detect(), a {len(title)}-character title: {title_us:.0f} µs")
    print(f"  detect_item() on the labelled items (mean {mean:.0f} characters): {items_us:.0f} µs")
    import py3langid  # its own copy of the model, loaded on first use

    py3langid.classify(SAMPLE)
    library_us = per_call_us(lambda: py3langid.classify(SAMPLE))
    print(f"  py3langid.classify(), {len(SAMPLE)} characters, for comparison: {library_us:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
