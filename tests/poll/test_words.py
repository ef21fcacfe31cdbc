"""The words of new items for search, folded by the poll as the matcher folds a field
(monitor.poll.words), are the words the store folds itself (monitor.store.search), on the
project's French, English and Arabic corpora and on typography made to tell them apart."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.core.models import Item
from monitor.poll.words import field_words, search_words
from monitor.store.search import index_words, sqlite_words, store_words

DATA = Path(__file__).resolve().parent.parent / "data"
HARD = [
    "Les centres d’appels de l’I.A. : IAs, BPOs et U.S. — call-center, Procter & Gamble.",
    "ŒUVRES d'Œdipe, cœur, æther; ﬁnance Ｆｕｌｌ width; soft\u00adhyphen, zero\u200bwidth.",
    "وزير الاقتصاد يزور المغرب، والشركات المغربية بالذكاء الاصطناعي ٢٠٢٦",
    "Companies, parties, boxes and dishes; journaux, centres, organizations.",
    "i.e. e.g. J. A. Smith; 3.5% à 10h30 — « guillemets » “quotes”",
    "", "   ", "...", "x",
    "avant " + "x" * 201 + " après, " + "y" * 300 + ": fin " + "z" * 200, "w" * 250,
    "a, " + "\u3300" * 60 + " b",  # (each ㌀ folds to four letters)
]  # fmt: skip


def corpus() -> list[str]:
    texts = list(HARD)
    for name in ("fr-news-labelled.yaml", "ar-news-labelled.yaml", "rules-extra.yaml"):
        for entry in yaml.safe_load((DATA / name).read_text(encoding="utf-8")).get("items", []):
            texts += [str(entry.get("title", "")), str(entry.get("summary", ""))]
    return texts


def test_the_poll_and_the_store_fold_the_same_words() -> None:
    texts = corpus()
    assert len(texts) > 500
    differ = [
        (t, field_words(t), sqlite_words(t)) for t in texts if field_words(t) != sqlite_words(t)
    ]
    assert differ == []
    assert field_words(*HARD[:3]) == sqlite_words(*HARD[:3])  # several texts: breaks between


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_an_item_gets_the_words_the_store_would_give_it(dialect: str) -> None:
    item = Item("a", "k", "https://a.ma/k", HARD[0], HARD[3], HARD[2] + " " + HARD[3], None)
    words = search_words([item])["k"]
    assert store_words(dialect, words) == index_words(
        dialect, item.title, item.summary, item.content
    )
    # elisions and hyphens join, a colon or a comma breaks; I.A. and IAs are ia, U.S. us
    assert words[0] == (
        "les center d appel de l ia _ ia _ bpo et us _ call center _ procter gamble"
        " _ appels centres"  # written forms, for prefixes: appels*
    )
