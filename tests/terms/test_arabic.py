# ruff: noqa: RUF003  (Arabic letters are the subject)
"""Arabic words as a reader reads them (monitor.terms.arabic): folding, term keys, the forms a
term's word is looked for in, and the forms left out because they are other words."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from monitor.config.rules import RuleConfig
from monitor.rules.matcher import Matcher
from monitor.terms import arabic
from monitor.terms.text import fold, tokenize


def folded(text: str) -> str:
    return fold(text)[0]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("الـذكـاء", "الذكاء"),  # tatweel
        ("الذَّكَاءُ", "الذكاء"),  # tashkeel
        ("أإآٱا", "ااااا"),  # alef forms
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("شركة", "شركه"),  # teh marbuta
        ("مسؤول", "مسوول"),  # waw with hamza
        ("رئيس", "رييس"),  # yeh with hamza
        ("٢٠٢٦", "2026"),  # Arabic-Indic digits
        ("۲۰۲۶", "2026"),  # extended (Persian) digits
        ("ﻻ", "لا"),  # presentation forms (NFKD)
    ],
)
def test_folding(written: str, expected: str) -> None:
    assert folded(written) == expected


def test_arabic_punctuation_splits_words_and_breaks_phrases() -> None:
    tokens = tokenize("الذكاء، الاصطناعي؟ نعم؛ لا")
    assert tokens.raw == ["الذكاء", "الاصطناعي", "نعم", "لا"]
    assert tokens.joined == [False, False, False, False]


def test_spans_through_tatweel_are_the_text_as_written() -> None:
    text = "عن الـذكـاء اليوم"
    tokens = tokenize(text)
    assert text[tokens.starts[1] : tokens.ends[1]] == "الـذكـاء"


def test_lexicon_is_shipped_and_folded() -> None:
    words = arabic.lexicon()
    assert len(words) > 40_000
    assert {"وكاله", "اله", "لبنان", "لبن", "بنك", "شركه", "ذكاء", "موظفه"} <= words
    assert not {"والذكاء", "بالبنك", "شركات"} & words  # no clitics, no regular plurals


@pytest.mark.parametrize(
    ("term_word", "bare"),
    [
        ("الذكاء", "ذكاء"),  # the article off
        ("بالذكاء", "ذكاء"),  # any clitics off
        ("للشركه", "شركه"),
        ("للبنان", "لبنان"),  # ل + ال + لبنان is written للبنان
        ("وكاله", "وكاله"),  # a word that starts like a clitic stays whole
        ("بنك", "بنك"),
        ("اله", "اله"),  # آلة: too short for an article
        ("الماني", "الماني"),  # ألماني: a word of the lexicon, no article
        ("الفيسبوك", "فيسبوك"),  # unknown: the article off, when three letters are left
        # names the lexicon lacks keep letters that look like clitics or endings
        ("لشكر", "لشكر"),
        ("برشيد", "برشيد"),
        ("سلمان", "سلمان"),
        ("شركات", "شركات"),  # nor is a plural term made singular
    ],
)
def test_term_keys(term_word: str, bare: str) -> None:
    assert arabic.key(term_word) == bare


KNOWN = arabic.lexicon()


@pytest.mark.parametrize(
    ("bare", "written"),
    [
        ("ذكاء", ["ذكاء", "الذكاء", "والذكاء", "بالذكاء", "للذكاء", "فالذكاء", "كالذكاء"]),
        ("شركه", ["شركات", "الشركات", "للشركات", "وبالشركه", "شركتان", "شركتين", "فلشركه"]),
        ("موظف", ["موظفون", "الموظفين", "موظفان", "موظفو", "والموظفون"]),
        ("بلد", ["البلدين", "بلدا", "ببلد", "وللبلد"]),
        ("اتصال", ["الاتصال", "للاتصال", "اتصالات", "والاتصالات"]),
        ("لبن", ["اللبن", "بلبن"]),
        ("توجيه", ["التوجيهات", "توجيهات"]),  # a word ending in a real ه: its ات plural
        ("مستشفي", ["المستشفيات", "للمستشفيات"]),  # مستشفى (ى folded to ي)
        ("مغربي", ["مغربيا", "المغربيون"]),
    ],
)
def test_spellings_include_clitics_plurals_and_duals(bare: str, written: list[str]) -> None:
    assert set(written) <= arabic.spellings(bare, KNOWN)


@pytest.mark.parametrize(
    ("bare", "other_word"),
    [
        ("اله", "وكاله"),  # agency, not و + ك + machine
        ("اله", "وكالات"),  # agencies
        ("لبن", "لبنان"),  # Lebanon, not the dual of milk
        ("لبن", "للبنان"),
        ("موظف", "موظفات"),  # the plural of موظفة
        ("بلد", "بلدات"),  # the plural of بلدة (town)
        ("بلد", "البلدان"),  # the broken plural, a word of the lexicon
    ],
)
def test_spellings_leave_out_other_words(bare: str, other_word: str) -> None:
    assert other_word in arabic.spellings(bare, frozenset())  # blindly, it would be one
    assert other_word not in arabic.spellings(bare, KNOWN)


def test_a_form_is_read_with_the_fewest_clitics_then_the_closest_ending() -> None:
    assert min(arabic.readings("وكالات", KNOWN)) == (0, 2, "وكاله")
    assert min(arabic.readings("والذكاء", KNOWN)) == (3, 0, "ذكاء")
    assert list(arabic.readings("فلفلو", frozenset())) == []


def test_wildcards_look_past_clitics() -> None:
    assert arabic.starts_with("والاتصالات", ("اتصال",))
    assert arabic.starts_with("اتصالات", ("اتصال",))
    assert not arabic.starts_with("انفصال", ("اتصال",))
    assert "والاتصال" in arabic.prefix_spellings("اتصال")


def matcher(
    *rules: Mapping[str, object], lexicon: frozenset[str] | None = None, rule_words: bool = True
) -> Matcher:
    configs = [RuleConfig.model_validate(rule) for rule in rules]
    return Matcher(configs, lexicon=lexicon, rule_words=rule_words)


def fired(m: Matcher, title: str) -> dict[str, list[str]]:
    found = m.match_fields({"title": title, "summary": "", "content": ""})
    return {match.rule: [title[hit.start : hit.end] for hit in match.hits] for match in found}


IA = {"name": "ia", "any": ["الذكاء الاصطناعي"]}
CENTRES = {"name": "centres", "any": ["مراكز الاتصال"]}


@pytest.mark.parametrize(
    ("title", "span"),
    [  # the headlines: each was missed before
        ("إطلاق منصة للذكاء الاصطناعي في الدار البيضاء", "للذكاء الاصطناعي"),
        ("والذكاء الاصطناعي يفرض نفسه", "والذكاء الاصطناعي"),
        ("بالذكاء الاصطناعي تتحول الخدمات", "بالذكاء الاصطناعي"),
        ("الـذكـاء الاصطنـاعـي والتشغيل", "الـذكـاء الاصطنـاعـي"),
        ("ذكاء اصطناعي في خدمة الزبناء", "ذكاء اصطناعي"),  # the article is optional
    ],
)
def test_phrases_match_with_clitics_and_highlight_the_word_as_written(
    title: str, span: str
) -> None:
    assert fired(matcher(IA), title) == {"ia": [span]}


def test_clitics_on_both_words_of_a_phrase() -> None:
    title = "الذكاء الاصطناعي: أداة جديدة بمراكز الاتصال"
    assert fired(matcher(IA, CENTRES), title) == {
        "ia": ["الذكاء الاصطناعي"],
        "centres": ["بمراكز الاتصال"],
    }
    assert fired(matcher(CENTRES), "لمراكز للاتصالات") == {"centres": ["لمراكز للاتصالات"]}
    assert fired(matcher(IA), "الذكاء، الاصطناعي") == {}  # a comma breaks the phrase


def test_a_term_written_with_clitics_matches_the_bare_word() -> None:
    rule = {"name": "ia", "any": ["بالذكاء الاصطناعي"]}
    assert fired(matcher(rule), "ذكاء اصطناعي") == {"ia": ["ذكاء اصطناعي"]}


def test_wildcard_and_proximity_terms() -> None:
    telecom = {"name": "telecom", "any": ["اتصال*"]}
    assert fired(matcher(telecom), "ارتفاع أرباح اتصالات المغرب") == {"telecom": ["اتصالات"]}
    assert fired(matcher(telecom), "انفصال") == {}
    near = {"name": "near", "all": [{"near": ["الذكاء الاصطناعي", "الشغل"], "within": 2}]}
    assert "near" in fired(matcher(near), "الذكاء الاصطناعي يهدد الشغل")
    assert fired(matcher(near), "الذكاء الاصطناعي يهدد مستقبل سوق الشغل بالمغرب") == {}


def test_language_scope() -> None:
    rule = {"name": "ia-ar", "languages": ["ar"], "any": ["IA", "الذكاء الاصطناعي"]}
    m = matcher(rule)
    assert fired(m, "الذكاء الاصطناعي يغير مراكز النداء بالمغرب") != {}
    assert fired(m, "L'IA bouleverse les centres d'appels au Maroc") == {}


def test_the_rules_own_words_are_words_in_their_own_right() -> None:
    machine = {"name": "machine", "any": ["آلة"]}
    agence = {"name": "agence", "any": ["وكالة"]}
    blind = matcher(machine, agence, lexicon=frozenset(), rule_words=False)
    assert fired(blind, "وكالة الأنباء") == {
        "machine": ["وكالة"],
        "agence": ["وكالة"],
    }
    rules_only = matcher(machine, agence, lexicon=frozenset())
    assert fired(rules_only, "وكالة الأنباء") == {"agence": ["وكالة"]}
    assert fired(matcher(machine), "وكالة الأنباء") == {}  # the lexicon knows it


def test_names_and_wildcards_do_not_lose_their_letters() -> None:
    names = {"name": "names", "any": ["لشكر", "برشيد", "سلمان"]}
    assert fired(matcher(names), "شكرا لكم على رشيد ودعوة إلى السلم") == {}
    assert fired(matcher(names), "إدريس لشكر يزور برشيد") == {"names": ["لشكر", "برشيد"]}
    wilaya = {"name": "wilaya", "any": ["ولاي*", "وزار*"]}
    assert fired(matcher(wilaya), "زار الملك المدينة أيضا") == {}
    assert fired(matcher(wilaya), "والي ولاية الدار البيضاء ووزارة الداخلية") == {
        "wilaya": ["ولاية", "ووزارة"]
    }


def test_plurals_of_words_ending_in_heh_and_alef_maqsura() -> None:
    rules = [{"name": "tawjih", "any": ["توجيه"]}, {"name": "hopital", "any": ["مستشفى"]}]
    assert fired(matcher(*rules), "التوجيهات الملكية للمستشفيات") == {
        "tawjih": ["التوجيهات"],
        "hopital": ["للمستشفيات"],
    }


def test_bidirectional_marks_are_invisible() -> None:
    for mark in ("\u200f", "\u200e", "\u061c"):
        title = f"الذكاء{mark} الاصطناعي في مراكز{mark} النداء"
        assert fired(matcher(IA), title) == {"ia": [f"الذكاء{mark} الاصطناعي"]}
