# ruff: noqa: RUF001  (French typography: its apostrophe is the data)
"""CPU cost of one digest item in an email: rendering it, then building the message (issue 19).

Usage: ``.venv/bin/python -m bench.digests [--items 300] [--runs 5] [--profile]``

Generates, deterministically (seeded), digests of ``--items`` items as a first poll owes them:
French and English press titles (some the same story from several outlets), summaries of about
300 characters and some article contents, one to three of six rules per item with their
explanations (hits in title, summary or content; a tenth recorded without them), a few hostile
values (markup, control characters, ``javascript:`` links, no title, no date). For each of four
subscribers (fr/en, grouped by rule/story) it times, in CPU time (``time.process_time``; the
machine is shared), best of ``--runs``:

- render: the subject, plain text and HTML of a digest of new items (``Renderer``);
- again: the same items in another subscriber's digest (what 100 subscribers of one first poll
  share: the item views are made once per language);
- message: ``EmailNotifier`` building the bytes it hands aiosmtplib from those three strings,
  plus what aiosmtplib still does to them (line endings counted for SIZE, then normalised and
  dot-stuffed for DATA).

Prints µs per digest item for each, and the digest's size. ``--profile`` prints cProfile's top
functions for one render and one message.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast
from zoneinfo import ZoneInfo

import aiohttp
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from monitor.config.sections import SmtpConfig
from monitor.config.subscribers import Language, SubscriberConfig
from monitor.core.models import Digest, DigestItem, Hit
from monitor.digest.render import Renderer
from monitor.notifiers.base import NotifierContext
from monitor.notifiers.email import EmailNotifier

SEED = 19
ZONE = ZoneInfo("Africa/Casablanca")
CREATED = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)

# rule → its terms, as configured
RULES: dict[str, tuple[str, ...]] = {
    "demarchage": ("démarchage", "centre d'appel", "télévente"),
    "ia": ("IA", "intelligence artificielle", "AI"),
    "offshoring": ("offshoring", "externalisation", "nearshore"),
    "telecoms": ("Maroc Telecom", "5G", "fibre"),
    "banques": ("banque", "crédit", "Bank Al-Maghrib"),
    "emploi": ("emploi", "recrutement", "jobs"),
}
RULE_ORDER = tuple(RULES)

FR_SUBJECTS = (
    "Le {t} au Maroc",
    "Les opérateurs du {t}",
    "La {t} marocaine",
    "Le secteur du {t}",
    "L’essor de l’{t}",
)
FR_VERBS = (
    "accélère en 2026",
    "face à la nouvelle loi",
    "recrute 2 000 personnes à Casablanca",
    "s’adapte à l’interdiction du 1er août",
    "inquiète les syndicats",
    "attire les investisseurs étrangers",
    "gagne des parts de marché",
)
EN_SUBJECTS = ("Morocco's {t} industry", "The {t} market", "Africa's {t} boom", "{t} players")
EN_VERBS = (
    "grows 12% in 2026",
    "faces a new law",
    "hires 2,000 in Casablanca",
    "adapts to the August ban",
    "draws foreign investors",
)
OUTLETS = (
    ("leseco", " - Les Inspirations ÉCO"),
    ("medias24", " | Médias24"),
    ("lematin", " - Le Matin"),
    ("reuters", ""),
    ("hespress", " – Hespress FR"),
)
FR_FILLER = (
    "Selon les professionnels du secteur, les centres de Rabat et de Tanger ont vu leur "
    "activité progresser de 8 % sur l’année, portée par les donneurs d’ordre français. "
    "« Nous devons former nos équipes », explique un dirigeant, qui s’attend à une année "
    "charnière. Les chiffres de l’ANRT confirment la tendance : le nombre de positions "
    "ouvertes a doublé depuis 2023 & les salaires suivent."
)
EN_FILLER = (
    "Industry executives say centres in Rabat and Tangier grew 8% over the year, driven by "
    'French clients. "We have to train our teams," one manager said, expecting a pivotal '
    "year. Regulator figures confirm the trend: open positions doubled since 2023 & wages "
    "followed."
)
HOSTILE_TITLES = (
    "<script>alert('x')</script> Le démarchage & les <b>centres</b>",
    "Titre\r\nBcc: x@y.example avec\x1b[31m démarchage",
    "",
)


@dataclass
class Draw:
    """One seeded generator of items; ``item(n)`` is the nth item of a first poll."""

    rng: random.Random

    def text_with(self, language: str, terms: list[str], words: int) -> str:
        filler = (FR_FILLER if language == "fr" else EN_FILLER).split()
        out: list[str] = []
        while len(out) < words:
            start = self.rng.randrange(len(filler))
            out.extend(filler[start : start + self.rng.randint(4, 12)])
            if terms and self.rng.random() < 0.35:
                out.append(self.rng.choice(terms))
        return " ".join(out[:words]) + "."

    def item(self, n: int, language: str) -> list[DigestItem]:
        """An item, and sometimes the same story from other outlets."""
        rng = self.rng
        rules = rng.sample(RULE_ORDER, k=rng.choice((1, 1, 1, 2, 2, 3)))
        terms = {rule: tuple(rng.sample(RULES[rule], k=rng.choice((1, 1, 2)))) for rule in rules}
        found = [term for chosen in terms.values() for term in chosen]
        subjects, verbs = (FR_SUBJECTS, FR_VERBS) if language == "fr" else (EN_SUBJECTS, EN_VERBS)
        headline = f"{rng.choice(subjects).format(t=rng.choice(found))} {rng.choice(verbs)}"
        if n % 97 == 5:
            headline = HOSTILE_TITLES[n % len(HOSTILE_TITLES)]
        summary = self.text_with(language, found, rng.randint(25, 60))
        content = self.text_with(language, found, rng.randint(150, 400)) if n % 4 == 0 else ""
        if n % 5 == 1:  # the terms are in the content only
            summary = self.text_with(language, [], rng.randint(25, 60))
            content = self.text_with(language, found, rng.randint(150, 400))
        copies = rng.choice((1, 1, 1, 1, 2, 3))
        items = []
        for copy in range(copies):
            source, suffix = OUTLETS[(n + copy) % len(OUTLETS)]
            title = headline + suffix if headline else ""
            published = CREATED - timedelta(minutes=n * 7 + copy * 3)
            link = f"https://{source}.example/{language}/{n}-{copy}?utm_source=rss&id={n}"
            if n % 53 == 7:
                link = "javascript:alert(1)"
            elif n % 61 == 9:
                link = ""
            hits: tuple[tuple[str, Hit], ...] | None = tuple(
                (rule, hit)
                for rule in rules
                for term in terms[rule]
                for hit in spans(term, title, summary, content)
            )
            if n % 10 == 3:
                hits = None  # delivered before explanations were recorded
            items.append(
                DigestItem(
                    id=f"it_{language}_{n}_{copy}",
                    title=title,
                    link=link,
                    source=source,
                    published=None if n % 41 == 2 else published,
                    summary=summary,
                    rules=tuple(rules),
                    terms=terms,
                    hits=hits,
                    content=content,
                )
            )
        return items


def spans(term: str, title: str, summary: str, content: str) -> list[Hit]:
    found = []
    for field, text in (("title", title), ("summary", summary), ("content", content)):
        lowered, wanted = text.lower(), term.lower()
        start = lowered.find(wanted)
        while start != -1:
            found.append(Hit(term, field, start, start + len(term)))
            start = lowered.find(wanted, start + len(term))
    return found


def make_digest(size: int, seed: int = SEED, subscriber: str = "analyste") -> Digest:
    """A first poll's digest of about ``size`` items, two thirds French, one third English."""
    draw = Draw(random.Random(seed))
    items: list[DigestItem] = []
    n = 0
    while len(items) < size:
        items.extend(draw.item(n, "en" if n % 3 == 2 else "fr"))
        n += 1
    return Digest(f"dg_{seed:04d}", subscriber, CREATED, tuple(items[:size]), waiting=size // 7)


PROFILES: tuple[tuple[str, Language, Literal["rule", "story"]], ...] = (
    ("fr-rule", "fr", "rule"),
    ("fr-story", "fr", "story"),
    ("en-rule", "en", "rule"),
    ("en-story", "en", "story"),
)


def renderer() -> Renderer:
    subscribers = [
        SubscriberConfig(name=name, email=f"{name}@example.ma", language=lang, group_by=by)
        for name, lang, by in PROFILES
    ]
    return Renderer(ZONE, subscribers=subscribers, rule_order=RULE_ORDER)


def notifier(subscriber: str, shown: Renderer) -> EmailNotifier:
    smtp = SmtpConfig.model_validate(
        {"host": "127.0.0.1", "port": 25, "security": "none", "from": "Veille <veille@example.com>"}
    )
    context = NotifierContext(
        renderer=shown,
        smtp=smtp,
        session=cast(aiohttp.ClientSession, None),
        stdout=io.StringIO(),
        clock=lambda: CREATED,
    )
    return EmailNotifier(
        SubscriberConfig(name=subscriber, email=f"{subscriber}@example.ma"), context
    )


def render(shown: Renderer, digest: Digest) -> tuple[str, str, str]:
    return shown.subject(digest), shown.text(digest), shown.html(digest)


def wire(sender: EmailNotifier, digest: Digest, parts: tuple[str, str, str]) -> bytes:
    """What leaves the process: the notifier's bytes, as aiosmtplib's sendmail treats them."""
    data = sender.build(digest, *parts)
    len(normalize_message_line_endings(data))  # SIZE=
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data)) + b".\r\n"


def cpu(work: Callable[[], object]) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    size = args.items
    print(f"{size} items a digest, best of {args.runs} runs, CPU µs per item")
    print(f"{'subscriber':<10} {'render':>8} {'again':>8} {'message':>8} {'bytes':>9}")
    totals = [0.0, 0.0, 0.0]
    for row, (name, _, _) in enumerate(PROFILES):
        best = [float("inf")] * 3
        length = 0
        for run in range(args.runs):
            seed = SEED + 1000 * row + run  # new items each run: nothing seen before
            fresh, shown = make_digest(size, seed, name), renderer()
            again = make_digest(size, seed, name)  # equal items, other objects: a second reader
            sender = notifier(name, shown)
            parts: tuple[str, str, str] = ("", "", "")

            def first(digest: Digest = fresh, shown: Renderer = shown) -> None:
                nonlocal parts
                parts = render(shown, digest)

            def second(digest: Digest = again, shown: Renderer = shown) -> None:
                render(shown, digest)

            times = [cpu(first), cpu(second)]
            data = b""

            def message(digest: Digest = fresh, sender: EmailNotifier = sender) -> None:
                nonlocal data
                data = wire(sender, digest, parts)  # noqa: B023 (called right away)

            times.append(cpu(message))
            length = len(data)
            best = [min(b, t) for b, t in zip(best, times, strict=True)]
        per_item = [seconds * 1e6 / size for seconds in best]
        totals = [a + b for a, b in zip(totals, per_item, strict=True)]
        print(f"{name:<10} {per_item[0]:8.1f} {per_item[1]:8.1f} {per_item[2]:8.1f} {length:9,}")
    mean = [total / len(PROFILES) for total in totals]
    print(f"{'mean':<10} {mean[0]:8.1f} {mean[1]:8.1f} {mean[2]:8.1f}")
    if args.profile:
        digest, shown = make_digest(size, SEED), renderer()
        sender = notifier("analyste", shown)
        profiler = cProfile.Profile()
        profiler.enable()
        wire(sender, digest, render(shown, digest))
        profiler.disable()
        stats = pstats.Stats(profiler, stream=(out := io.StringIO()))
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
