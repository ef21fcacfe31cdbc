"""Language detection (monitor.rules.language) on the labelled headlines, and its edge cases."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
import yaml

from monitor.rules import language
from monitor.rules.language import (
    FOLD,
    ITEM_CHARS,
    PRESS,
    SUPPORTED,
    detect,
    detect_item,
    item_text,
)
from tests.support.paths import DATA

HEADLINES: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "headlines-languages.yaml").read_text(encoding="utf-8")
)
# A little under what bench/languages.py measured (fr 0.98, en 0.92, es 0.98, ar 1.00; de 1.00,
# pt 0.75, it 0.83 on 12 titles each): a change to the model, the prior or the text read that
# costs a few titles fails here.
FLOORS = {"fr": 0.94, "en": 0.87, "es": 0.94, "ar": 0.97, "de": 0.9, "pt": 0.65, "it": 0.7}
KINDS = {"short", "loanwords", "names", "close", "titlecase", "darija"}


def test_labelled_set_is_large_and_well_formed() -> None:
    counts = Counter(item["lang"] for item in HEADLINES)
    assert all(counts[lang] >= 60 for lang in PRESS)
    assert set(counts) == set(FLOORS)
    assert all(item["text"] and item.get("kind", "short") in KINDS for item in HEADLINES)
    texts = [item["text"] for item in HEADLINES]
    assert len(texts) == len(set(texts))
    assert sum(1 for item in HEADLINES if item.get("summary")) >= 40


@pytest.mark.slow
@pytest.mark.parametrize("lang", sorted(FLOORS))
def test_accuracy_per_language_on_titles(lang: str) -> None:
    items = [item for item in HEADLINES if item["lang"] == lang]
    wrong = [(item["text"], detect(item["text"])) for item in items]
    wrong = [(text, got) for text, got in wrong if got != lang]
    accuracy = 1 - len(wrong) / len(items)
    assert accuracy >= FLOORS[lang], f"{lang} {accuracy:.2f} < {FLOORS[lang]}: {wrong}"


def test_title_and_summary_are_right_where_titles_alone_are_not() -> None:
    items = [item for item in HEADLINES if item.get("summary")]
    wrong = [i["text"] for i in items if detect_item(i["text"], i["summary"], "") != i["lang"]]
    assert len(wrong) <= 1, wrong  # 51/51 measured


@pytest.mark.parametrize(
    "text", ["", "   \n", "2026 — 12,5 % (+3)", "IA", "5G", "…", "📈📉", "CAN"], ids=repr
)
def test_no_letters_or_too_short_is_none(text: str) -> None:
    assert detect(text) is None
    assert detect_item(text, "", "") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Le Maroc interdit le démarchage téléphonique à partir d'août 2026", "fr"),
        ("LE MAROC CHAMPION D'AFRIQUE", "fr"),  # capitals
        ("Hausse des prix", "fr"),  # Walloon for the model alone
        ("Cae el paro", "es"),  # Venetian for the model alone
        ("بنك المغرب يبقي على سعر الفائدة الرئيسي دون تغيير", "ar"),
        ("الحكومة: ما كاينش زيادة فالأسعار", "ar"),  # Moroccan Arabic, folded to ar
        ("Bank Al-Maghrib holds key rate at 2.25%", "en"),
        # Other languages stay possible: the prior does not outweigh evidence.
        ("Bundesregierung beschließt den Haushalt", "de"),
        ("Governo aprova o Orçamento do Estado para o próximo ano", "pt"),
        ("Il governo approva la manovra", "it"),
        ("La internacia lingvo Esperanto estas parolata en multaj landoj de la mondo.", "eo"),
    ],
)
def test_specific_titles(text: str, expected: str) -> None:
    assert detect(text) == expected


def test_supported_codes() -> None:
    assert {"fr", "en", "es", "ar", "de", "pt", "it"} <= SUPPORTED
    assert "xx" not in SUPPORTED and "zxx" not in SUPPORTED
    assert not set(FOLD) & SUPPORTED  # "ary" is reported, and configured, as "ar"
    assert all(code.isascii() and code.islower() and len(code) in (2, 3) for code in SUPPORTED)


def test_supported_is_what_the_model_can_return() -> None:
    assert {code for code in language.model().codes if code} == SUPPORTED


def test_item_text_reads_title_then_summary_else_content_within_bounds() -> None:
    assert item_text("Hausse des prix", "Le HCP relève\n une hausse.", "x") == (
        "Hausse des prix Le HCP relève une hausse."
    )
    assert item_text("Hausse des prix", "", "Le contenu  entier.") == (
        "Hausse des prix Le contenu entier."
    )
    assert item_text("", "", "Le contenu.") == "Le contenu."
    long = item_text("Titre", "", "mot " * 10_000)
    assert len(long) <= ITEM_CHARS and long.endswith("mot")
    assert item_text("t" * 500, "résumé", "") == "t" * ITEM_CHARS


def test_detect_item_uses_the_summary() -> None:
    summary = "Los facultativos de atención primaria reclaman más personal y menos pacientes."
    assert detect_item("Huelga", summary, "") == "es"
    assert detect_item("Huelga", "", summary) == "es"


def test_letterless_text_does_not_load_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "_model", None)
    assert detect("2026 — 12,5 %") is None
    assert language._model is None


def test_model_is_loaded_once_by_concurrent_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []

    class SlowModel:
        def __init__(self) -> None:
            time.sleep(0.05)
            built.append(self)

    monkeypatch.setattr(language, "_model", None)
    monkeypatch.setattr(language, "Model", SlowModel)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(language.model())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and len(got) == 8 and all(model is built[0] for model in got)
