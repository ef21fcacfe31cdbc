"""Matching semantics of keyword rules (DESIGN §3.3), term by term and rule by rule."""

# French text uses the typographic apostrophe; these tests are about exactly that.

from __future__ import annotations

import itertools
import random
import subprocess
import sys

import pytest
import yaml

from monitor.config.rules import RuleConfig
from monitor.core.errors import ConfigError
from monitor.core.models import Match
from monitor.rules.automaton import TermAutomaton
from monitor.rules.canonical import FieldText
from monitor.rules.matcher import Matcher
from monitor.rules.spans import find_spans
from monitor.terms.syntax import term_problem
from monitor.terms.text import ELISIONS, fold, tokenize
from monitor.terms.words import alternate, stem
from tests.support.paths import DATA
from tests.support.trie_oracle import term_words

CORPUS_ITEMS = [
    item
    for name in ("fr-news-labelled.yaml", "rules-extra.yaml")
    for item in yaml.safe_load((DATA / name).read_text("utf-8"))["items"]
]
APOSTROPHES = ["'", "\u2019", "\u02bc", "\u2018", "`", "\u00b4"]


def rule(name: str = "r", **lists: list[str]) -> RuleConfig:
    return RuleConfig.model_validate({"name": name, **lists})


def unchecked(name: str, **lists: list[str]) -> RuleConfig:
    """A rule the config validator would refuse, to check the matcher refuses it too."""
    terms: dict[str, list[str]] = {"any": [], "all": [], "none": []} | lists
    fields = ["title", "summary", "content"]
    return RuleConfig.model_construct(
        name=name, fields=fields, any=terms["any"], all=terms["all"], none=terms["none"]
    )


def brief(matches: list[Match]) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.rule, m.terms) for m in matches]


def term_matches(term: str, text: str) -> bool:
    """Whether ``term`` matches ``text``, asked of both the matcher and find_spans."""
    fired = bool(Matcher([rule(any=[term])]).match_fields({"title": text}))
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
    # acronym plurals: capitals then a lower-case s, in the text or in the term
    ("IA", "Les IAs génératives", True),
    ("IAs", "l’IA", True),
    ("AI", "Why AIs fail", True),
    ("BPO", "les BPOs", True),
    ("CRM", "Des CRMs", True),
    ("CRMs", "un CRM", True),
    ("IA", "Œuvres des IAs", True),  # Œ folds to two letters: spans map back to the text
    ("IA", "De\u0301ja\u0300 des IAs", True),
    ("IA", "norme IAS 38", False),  # an acronym of its own, written all in capitals
    ("IA", "Ias", False),
    ("IA", "ias", False),
    ("le", "les", False),  # short words keep their s
    ("les", "le", False),
    ("de", "des", False),
    ("ce", "ces", False),
    ("CE", "Ces entreprises", False),
    ("bu", "bus", False),
    ("bus", "Les BUS", True),
    ("me", "mes", False),
    # dotted acronyms: capitals each followed by a dot
    ("IA", "L’I.A. générative", True),
    ("IA", "l'I.A en 2026", True),
    ("I.A.", "l’IA", True),
    ("US", "the U.S. economy", True),
    ("U.S.", "US tariffs", True),
    ("u.s.", "U.S.", True),  # a term joins dotted letters whatever their case
    ("US economy", "the U.S. economy", True),
    ("USA", "U.S.A", True),
    ("US", "Œuvre made in the U.S.", True),
    ("US based", "U.S.-based", True),
    ("IA", "i.a.", False),  # lower-case abbreviations stay letters
    ("IA", "I.e.", False),
    ("IE", "i.e.", False),
    ("PM", "à 5 p.m.", False),
    ("IA", "J. A. Smith", False),  # spaced initials stay letters
    ("IA", "I. A. Smith", False),
    ("IA", "I.AB", False),
    ("AB", "I.AB", True),
    # a final x is a plural only after eu, ou, au
    ("jeux", "jeu", True),
    ("bijou", "Bijoux", True),
    ("bureaux", "bureau", True),
    ("journaux", "journal", True),
    ("cheval", "chevaux", True),
    ("prix", "pris", False),
    ("pris", "prix", False),
    ("prix", "Prix", True),
    ("deux", "deux", True),
    ("deux", "Deus ex machina", False),
    ("deus", "deux", False),
    ("peu", "je peux", False),
    ("tous", "une toux", False),
    ("tau", "les taux", False),
    ("Inde", "l'index", False),
    ("flu", "flux", False),
    ("choix", "choix", True),
    # English -ies, -xes, -shes plurals; French -ie words keep their own
    ("party", "partie", False),
    ("partie", "party", False),
    ("partie", "parties", True),
    ("parties", "partie", True),
    ("party", "office parties", True),
    ("company", "companies", True),
    ("companies", "company", True),
    ("agencies", "agency", True),
    ("agency", "agencies", True),
    ("energy", "énergie", False),
    ("énergie", "energy", False),
    ("movie", "movies", True),
    ("box", "boxes", True),
    ("boxes", "box", True),
    ("box", "la boxe", False),
    ("boxe", "boxes", True),
    ("index", "indexes", True),
    ("dish", "dishes", True),
    ("march", "les marches", False),
    ("gross", "grosses", False),
    ("mess", "les messes", False),
    ("bus", "buses", False),
    ("gaz", "gazes", False),
    # British and American spellings
    ("call center", "call-centres", True),
    ("call center", "Call centre jobs", True),
    ("call centres", "call centers", True),
    ("centre", "center", True),
    ("theatre", "theater", True),
    ("théâtre", "theaters", True),
    ("metre", "meter", True),
    ("kilomètres", "kilometer", True),
    ("litre", "liters", True),
    ("fibre", "fiber", True),
    ("organisation", "organization", True),
    ("organisations", "organization", True),
    ("externalisation", "externalisation", True),
    ("externalisation", "externalisations", True),
    ("externalisation", "externalization", True),
    ("optimise", "optimize", True),
    ("optimised", "optimized", True),
    ("analyse", "analyzes", True),
    ("enter", "entre", False),
    ("entre", "enter", False),
    ("letter", "lettre", False),
    ("order", "ordre", False),
    ("prize", "prise", False),
    ("size", "sise", False),
    ("centre", "central", False),
]

# Known ambiguities: the same spelling is two words, which matching cannot tell apart.
KNOWN: list[tuple[str, str]] = [
    ("Paris", "pari"),  # a final s that is not a plural
    ("news", "new"),
    ("party", "Les parties civiles"),  # French parties is also English parties
    ("U.S.", "join us"),  # case does not matter, so US is also us
    ("AI", "j'ai"),
    ("fix", "prix fixes"),  # French adjective fixes, English plural fixes
]


@pytest.mark.parametrize(("term", "text", "expected"), CASES)
def test_term_matching(term: str, text: str, expected: bool) -> None:
    assert term_matches(term, text) is expected


@pytest.mark.parametrize(("term", "text"), KNOWN)
def test_known_ambiguities_still_match(term: str, text: str) -> None:
    assert term_matches(term, text)


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
        ("centres", "center"),
        ("centre", "center"),
        ("journaux", "journau"),
        ("journal", "journau"),
        ("energies", "energie"),
        ("energie", "energie"),
        ("les", "les"),
        ("ia", "ia"),
        ("covid19s", "covid19s"),
        ("maroc", "maroc"),
        ("marocains", "marocain"),
        ("prix", "prix"),
        ("deux", "deux"),
        ("eaux", "eau"),
        ("entre", "entre"),
        ("organizations", "organisation"),
        ("prize", "prize"),
        ("treize", "treise"),  # harmless: no French or English word is spelled so
    ],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("companies", "company"),
        ("parties", "party"),
        ("boxes", "box"),
        ("dishes", "dish"),
        ("pies", None),
        ("axes", None),
        ("marches", None),
        ("classes", None),
        ("company", None),
        ("boxe", None),
    ],
)
def test_alternate_key_of_english_plurals(word: str, expected: str | None) -> None:
    assert alternate(word) == expected


def test_tokens_carry_alternate_keys_and_acronyms_their_spans() -> None:
    text = "Les parties, l’I.A. et les IAs"
    tokens = tokenize(text)
    assert tokens.words == ["les", "partie", "l", "ia", "et", "les", "ia"]
    assert tokens.alternates == {1: "party"}
    assert [text[a:b] for a, b in zip(tokens.starts, tokens.ends, strict=True)] == [
        "Les", "parties", "l", "I.A.", "et", "les", "IAs",
    ]  # fmt: skip
    assert tokens.joined == [False, True, False, True, True, True, True]
    assert term_words("companies d'I.A.") == (("companie", "company"), ("d",), ("ia",))


def test_a_word_with_two_keys_matches_patterns_of_either() -> None:
    automaton = TermAutomaton()
    partie = automaton.add(term_words("partie civile"))
    party = automaton.add(term_words("party"))
    parties = automaton.add(term_words("parties"))
    assert automaton.add(term_words("Parties")) == parties
    assert len(automaton) == 3

    def found(text: str) -> dict[int, list[str]]:
        field = FieldText.of(text)
        return {
            pattern: [field.spaced[start:end] for start, end in spans]
            for pattern, spans in automaton.find(field).items()
        }

    assert found("Les parties civiles") == {
        partie: ["parties civiles"],
        party: ["parties"],
        parties: ["parties"],
    }
    assert found("une party") == {party: ["party"], parties: ["party"]}
    assert found("la partie civile") == {partie: ["partie civile"], parties: ["partie"]}
    assert found("les parties. Civiles") == {party: ["parties"], parties: ["parties"]}
    with pytest.raises(ValueError, match="at least one word"):
        automaton.add(())


def test_none_terms_use_the_same_matching() -> None:
    matcher = Matcher([rule(any=["démarchage"], none=["énergie"])])
    assert (
        brief(matcher.match_fields({"title": "Démarchage", "summary": "Le secteur de l’ÉNERGIES"}))
        == []
    )
    assert brief(matcher.match_fields({"title": "Démarchage", "summary": "Les énergéticiens"})) == [
        ("r", ("démarchage",))
    ]


def test_fields_limit_every_list() -> None:
    matcher = Matcher([rule(any=["IA"], all=["Maroc"], none=["énergie"], fields=["title"])])
    assert brief(matcher.match_fields({"title": "IA au Maroc", "summary": "énergie"})) == [
        ("r", ("IA", "Maroc"))
    ]
    assert brief(matcher.match_fields({"title": "IA et énergie au Maroc", "summary": ""})) == []
    assert (
        brief(matcher.match_fields({"title": "IA", "summary": "Maroc", "content": "Maroc"})) == []
    )
    assert brief(matcher.match_fields({"title": "Maroc", "summary": "IA"})) == []


def test_all_terms_may_be_found_in_different_fields() -> None:
    matcher = Matcher([rule(all=["IA", "centres d'appels"])])
    fields = {"title": "L’IA s’invite", "summary": "", "content": "dans les centres d'appels"}
    assert brief(matcher.match_fields(fields)) == [("r", ("IA", "centres d'appels"))]
    assert (
        brief(matcher.match_fields({"title": "L’IA s’invite", "summary": "dans les centres"})) == []
    )


def test_a_phrase_does_not_span_two_fields() -> None:
    matcher = Matcher([rule(any=["call center"])])
    assert brief(matcher.match_fields({"title": "Le call", "summary": "center de Rabat"})) == []
    assert brief(matcher.match_fields({"title": "", "summary": "Le call center"})) == [
        ("r", ("call center",))
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
    assert bool(matcher.match_fields({"title": title})) is fires


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
    assert brief(matcher.match_fields({"summary": text})) == [
        ("r", ("intelligence artificielle", "IA", "ia", "Centres d’appels"))
    ]


def test_rules_come_back_in_config_order_and_share_terms() -> None:
    rules = [rule(f"r{n}", any=["IA"] if n % 2 else ["robots"]) for n in range(6)]
    rules.append(rule("both", all=["robot", "ia"]))
    matcher = Matcher(rules)
    assert [m.rule for m in matcher.match_fields({"title": "IA et robot"})] == [
        "r0", "r1", "r2", "r3", "r4", "r5", "both",
    ]  # fmt: skip
    assert [m.rule for m in matcher.match_fields({"content": "Les robots"})] == ["r0", "r2", "r4"]
    assert matcher.match_fields({}) == []


@pytest.mark.parametrize(
    ("term", "problem"),
    [
        ("«»", "has no letter or digit"),
        ("  -  ", "has no letter or digit"),
        ("'", "has no letter or digit"),
        ("!!!", "has no letter or digit"),
        ("C++", "is only 'c'"),
        ("C#", "is only 'c'"),
        ("l’", "is only 'l'"),
        ("qu'", "is only 'qu'"),
        ("jusqu’", "is only 'jusqu'"),
        ("A", "is only 'a'"),
        ("d' l'", "is only 'd l'"),
        ("A & B", "is only 'a b'"),
    ],
)
def test_a_term_that_cannot_be_matched_is_a_config_error(term: str, problem: str) -> None:
    message = term_problem(term)
    assert message is not None
    assert problem in message
    assert repr(term) in message
    with pytest.raises(ConfigError, match=r"rules\.bad\.none") as raised:
        Matcher([rule("good", any=["IA"]), unchecked("bad", any=["IA"], none=[term])])
    assert raised.value.problems == [f"rules.bad.none: {message}"]
    assert find_spans("C’est l’IA, c'est-à-dire A+", [term]) == []


@pytest.mark.parametrize("term", ["IA", "l'IA", "5", "plan B", "Vitamine C", "I.A.", "C++ 20"])
def test_a_usable_term_has_no_problem(term: str) -> None:
    assert term_problem(term) is None


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        Matcher([unchecked("a", any=["C++", "IA"]), unchecked("b", all=["!!!"], none=["l'"])])
    assert [p.split(":")[0] for p in raised.value.problems] == [
        "rules.a.any",
        "rules.b.all",
        "rules.b.none",
    ]


def test_the_rules_package_does_not_import_the_config_at_run_time() -> None:
    # The config validator calls term_problem; importing monitor.rules must not need it back.
    code = "import sys, monitor.rules; assert 'monitor.config.model' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


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
        ("Les IAs et l’I.A.", ["IA"], ["IAs", "I.A."]),
        ("the U.S. economy, i.e. growth", ["US economy", "IE"], ["U.S. economy"]),
        (
            "Tech companies and Call centres",
            ["company", "call center"],
            ["companies", "Call centres"],
        ),
        ("Les parties civiles", ["partie civile", "party"], ["parties civiles"]),
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


def test_the_whole_text_tokenizer_agrees_with_the_word_by_word_one() -> None:
    """The fast path of tokenize (whole-text split and map) gives exactly the words, spans,
    joins and keys of the careful path, on the corpora and on random French-like text."""
    from monitor.terms.text import _careful_tokens, _dotted, _plain_tokens

    texts = [t for item in CORPUS_ITEMS for t in (item["title"], item.get("summary", ""))]
    rng = random.Random(20261127)
    pieces = [*"abcdeéèàçIAlLsSx .,;:-'’\n\t_()«»!?0123", "  ", " - ", "l’", "d'", "call-center"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(5000)]
    fast = 0
    for text in texts:
        folded, offsets = fold(text)
        plain = None if offsets is not None or _dotted(folded) else _plain_tokens(text, folded)
        if plain is not None:
            assert plain == _careful_tokens(text, folded, offsets, False), text
            fast += 1
    assert fast > 4000  # most texts take the fast path
