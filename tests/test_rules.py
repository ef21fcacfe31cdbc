"""Matching semantics of keyword rules (DESIGN §3.3), term by term and rule by rule."""

# French text uses the typographic apostrophe; these tests are about exactly that.

from __future__ import annotations

import itertools

import pytest

from monitor.config import RuleConfig
from monitor.errors import ConfigError
from monitor.models import Match
from monitor.rules import Matcher, find_spans
from monitor.rules.text import ELISIONS, stem

APOSTROPHES = ["'", "\u2019", "\u02bc", "\u2018", "`", "\u00b4"]


def rule(name: str = "r", **lists: list[str]) -> RuleConfig:
    return RuleConfig.model_validate({"name": name, **lists})


def term_matches(term: str, text: str) -> bool:
    """Whether ``term`` matches ``text``, asked of both the matcher and find_spans."""
    fired = bool(Matcher([rule(any=[term])]).match({"title": text}))
    assert fired == bool(find_spans(text, [term]))
    return fired


CASES: list[tuple[str, str, bool]] = [
    # case and accents, precomposed or decomposed
    ("démarchage", "DÉMARCHAGE", True),
    ("démarchage", "Le demarchage telephonique", True),
    ("demarchage", "Démarchage", True),
    ("démarchage", "Le de\u0301marchage abusif", True),
    ("de\u0301marchage", "démarchage", True),
    ("Énergie", "ENERGIE", True),
    ("œuvre", "OEUVRE", True),
    ("straße", "STRASSE", True),
    ("IA", "\uff29\uff21 partout", True),
    ("démarchage", "démar\u00adchage", True),
    # whole words only
    ("IA", "l’IA", True),
    ("IA", "(IA)", True),
    ("IA", "« IA »", True),
    ("IA", "«\u00a0IA\u00a0»", True),
    ("IA", "d’IA en IA", True),
    ("IA", "IA.", True),
    ("IA", "via", False),
    ("IA", "média", False),
    ("IA", "Nvidia", False),
    ("IA", "IAM", False),
    ("IA", "Asia", False),
    ("IA", "DIAF", False),
    ("IA", "L'IAM et la Tunisia", False),
    ("IA", "", False),
    ("Maroc", "MAROC", True),
    ("Maroc", "marocains", False),
    ("Maroc", "Les Marocaines", False),
    ("COVID-19", "covid 19", True),
    ("COVID-19", "covid 2019", False),
    # elision split off, in texts and inside phrases
    ("démarchage", "d'démarchage", True),
    ("centres d'appels", "un centre d’appel", True),
    ("centre d’appel", "CENTRES D'APPELS", True),
    ("centres d'appels", "centres de données et appels d'offres", False),
    ("centres d'appels", "centres d'affaires", False),
    ("l'IA", "L’IA générative", True),
    ("intelligence artificielle", "l'intelligence artificielle", True),
    # singular and plural
    ("centre d'appel", "centres d'appels", True),
    ("intelligences artificielles", "intelligence artificielle", True),
    ("intelligence artificielle", "Des intelligences artificielles", True),
    ("call centers", "call center", True),
    ("call center", "les call centers", True),
    ("démarchage", "Démarchages", True),
    ("énergie", "énergies", True),
    ("énergies", "énergie", True),
    ("journal", "journaux", True),
    ("journaux", "journal", True),
    ("bureau", "bureaux", True),
    ("jeu", "jeux", True),
    ("company", "companies", True),
    ("centre", "central", False),
    # phrases across any white space and hyphens, not across punctuation
    ("call center", "call\u00a0center", True),
    ("call center", "call\u202fcenter", True),
    ("call center", "call\ncenter", True),
    ("call center", "call \r\n\t center", True),
    ("call center", "call-center", True),
    ("call center", "call\u2011center", True),
    ("call center", "call - center", True),
    ("call-center", "call center", True),
    ("call-centers", "Les call-center", True),
    ("relation client externalisée", "relation  client\u00a0externalisee", True),
    ("call center", "call. Center", False),
    ("call center", "call, center", False),
    ("call center", "call (center)", False),
    ("call center", "center call", False),
    ("call center", "call", False),
]


@pytest.mark.parametrize(("term", "text", "expected"), CASES)
def test_term_matching(term: str, text: str, expected: bool) -> None:
    assert term_matches(term, text) is expected


@pytest.mark.parametrize("apostrophe", APOSTROPHES)
def test_any_apostrophe_form(apostrophe: str) -> None:
    assert term_matches("centres d'appels", f"centres d{apostrophe}appels")
    assert term_matches(f"centres d{apostrophe}appels", "centres d’appels")
    assert term_matches("IA", f"l{apostrophe}IA")


@pytest.mark.parametrize("elision", ELISIONS)
def test_elision_is_split_off(elision: str) -> None:
    assert term_matches("IA", f"{elision}'IA")
    assert term_matches("IA", f"{elision.upper()}’IA")
    assert not term_matches("IA", f"{elision}IA")


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("centres", "centre"),
        ("centre", "centre"),
        ("journaux", "journau"),
        ("journal", "journau"),
        ("energies", "energy"),
        ("les", "les"),
        ("ia", "ia"),
        ("covid19s", "covid19s"),
        ("maroc", "maroc"),
        ("marocains", "marocain"),
    ],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_none_terms_use_the_same_matching() -> None:
    matcher = Matcher([rule(any=["démarchage"], none=["énergie"])])
    assert matcher.match({"title": "Démarchage", "summary": "Le secteur de l’ÉNERGIES"}) == []
    assert matcher.match({"title": "Démarchage", "summary": "Les énergéticiens"}) == [
        Match("r", ("démarchage",))
    ]


def test_fields_limit_every_list() -> None:
    matcher = Matcher([rule(any=["IA"], all=["Maroc"], none=["énergie"], fields=["title"])])
    assert matcher.match({"title": "IA au Maroc", "summary": "énergie"}) == [
        Match("r", ("IA", "Maroc"))
    ]
    assert matcher.match({"title": "IA et énergie au Maroc", "summary": ""}) == []
    assert matcher.match({"title": "IA", "summary": "Maroc", "content": "Maroc"}) == []
    assert matcher.match({"title": "Maroc", "summary": "IA"}) == []


def test_all_terms_may_be_found_in_different_fields() -> None:
    matcher = Matcher([rule(all=["IA", "centres d'appels"])])
    fields = {"title": "L’IA s’invite", "summary": "", "content": "dans les centres d'appels"}
    assert matcher.match(fields) == [Match("r", ("IA", "centres d'appels"))]
    assert matcher.match({"title": "L’IA s’invite", "summary": "dans les centres"}) == []


def test_a_phrase_does_not_span_two_fields() -> None:
    matcher = Matcher([rule(any=["call center"])])
    assert matcher.match({"title": "Le call", "summary": "center de Rabat"}) == []
    assert matcher.match({"title": "", "summary": "Le call center"}) == [
        Match("r", ("call center",))
    ]


@pytest.mark.parametrize(
    ("title", "fires"),
    [
        ("IA et centres d'appels", True),
        ("IA et Maroc", False),  # an all-term is missing
        ("centres d'appels et automates", False),  # no any-term
        ("robots, centres d'appels, énergie", False),  # a none-term is present
        ("robots et centres d'appels", True),
    ],
)
def test_rule_fires_iff_any_and_all_and_not_none(title: str, fires: bool) -> None:
    matcher = Matcher([rule(any=["IA", "robot"], all=["centres d'appels"], none=["énergie"])])
    assert bool(matcher.match({"title": title})) is fires


def test_reported_terms_are_as_written_in_config_order_without_duplicates() -> None:
    matcher = Matcher(
        [
            rule(
                any=["intelligence artificielle", "IA", "robot", "ia"],
                all=["IA", "Centres d’appels"],
            )
        ]
    )
    text = "Centres d'appels : l’IA et les intelligences artificielles"
    assert matcher.match({"summary": text}) == [
        Match("r", ("intelligence artificielle", "IA", "ia", "Centres d’appels"))
    ]


def test_rules_come_back_in_config_order_and_share_terms() -> None:
    rules = [rule(f"r{n}", any=["IA"] if n % 2 else ["robots"]) for n in range(6)]
    rules.append(rule("both", all=["robot", "ia"]))
    matcher = Matcher(rules)
    assert [m.rule for m in matcher.match({"title": "IA et robot"})] == [
        "r0", "r1", "r2", "r3", "r4", "r5", "both",
    ]  # fmt: skip
    assert [m.rule for m in matcher.match({"content": "Les robots"})] == ["r0", "r2", "r4"]
    assert matcher.match({}) == []


@pytest.mark.parametrize("term", ["«»", "  -  ", "'"])
def test_a_term_without_words_is_a_config_error(term: str) -> None:
    with pytest.raises(ConfigError, match=r"rules\.bad\.none"):
        Matcher([rule("good", any=["IA"]), rule("bad", any=["IA"], none=[term])])


@pytest.mark.parametrize(
    ("text", "terms", "expected"),
    [
        ("L’IA et les call-centers", ["IA", "call center"], ["IA", "call-centers"]),
        ("Le de\u0301marchage", ["démarchage"], ["de\u0301marchage"]),
        ("Die Straße, la STRASSE", ["strasse"], ["Straße", "STRASSE"]),
        (
            "les centres\u202fd’appels ferment",
            ["appels", "centres d'appels"],
            ["centres\u202fd’appels"],
        ),
        ("d’IA en IA", ["ia"], ["IA", "IA"]),
        ("via Nvidia, média", ["IA"], []),
        ("Œuvres d'IA", ["oeuvre", "IA"], ["Œuvres", "IA"]),
        ("IA", [], []),
        ("", ["IA"], []),
    ],
)
def test_find_spans(text: str, terms: list[str], expected: list[str]) -> None:
    spans = find_spans(text, terms)
    assert [text[start:end] for start, end in spans] == expected
    assert spans == sorted(spans)
    assert all(a_end < b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


def test_find_spans_merges_overlaps() -> None:
    text = "Les centres d'appels de Fès"
    assert find_spans(text, ["centres d'appels", "appels de Fès", "Fès"]) == [(4, len(text))]
