"""The term search of the matcher (canonical text, spellings, automaton) against the slow and
obvious way: tokenise every word, key it, walk a trie (tests/support/trie_oracle.py)."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
import yaml

from monitor.config.rules import RuleConfig
from monitor.rules.automaton import MAX_SPELLINGS, TermAutomaton
from monitor.rules.canonical import FieldText
from monitor.rules.matcher import Matcher
from monitor.terms.arabic import is_arabic
from monitor.terms.syntax import WILDCARD, WordTerm, parse_term, term_problem
from monitor.terms.text import fold, tokenize
from monitor.terms.words import keys, prefix_spellings, spellings
from tests.support.paths import DATA
from tests.support.trie_oracle import TermIndex, term_words, word_ranks

Occurrence = tuple[int, int, int]  # pattern id, first word, word count
CORPUS = [
    text
    for name in ("fr-news-labelled.yaml", "rules-extra.yaml")
    for item in yaml.safe_load((DATA / name).read_text("utf-8"))["items"]
    for text in (item["title"], item.get("summary", ""))
]
STEMS = ["center", "centre", "organiz", "organis", "journ", "analy", "compan", "box", "dish",
         "bure", "jeu", "travail", "canal", "fibre", "theatre", "met", "liter", "cal",
         "part"]  # fmt: skip
ENDINGS = ["", "s", "x", "al", "aux", "als", "au", "ization", "izations", "isation", "ize",
           "izes", "ized", "izing", "yze", "yzed", "yzing", "ies", "y", "es", "xes", "shes", "re",
           "res", "er", "ers", "eux", "oux", "eau", "eaux", "ie"]  # fmt: skip


def vocabulary() -> set[str]:
    """Folded words of the test data, and stems with every ending the key rules touch."""
    texts = [path.read_text("utf-8") for path in sorted(DATA.glob("*.yaml"))]
    words = {w for text in texts for w in re.findall(r"[^\W_]+", fold(text)[0])}
    return words | {stem + ending for stem in STEMS for ending in ENDINGS}


def test_every_word_is_among_the_spellings_of_its_keys() -> None:
    words = vocabulary()
    assert len(words) > 1500
    for word in words:
        for key in keys(word):
            if key is not None:
                assert word in spellings(key), (word, key)


def test_spellings_carry_their_key() -> None:
    assert spellings("center") == {"center", "centers", "centre", "centres"}
    assert spellings("company") == {"company", "companies", "companys"}
    assert spellings("journau") >= {"journal", "journals", "journaux", "journau"}
    assert spellings("partie") == {"partie", "parties"}
    assert "prix" in spellings("prix")
    assert "pris" not in spellings("prix")
    for key in ("center", "company", "journau", "organisation", "ia", "voeu", "deux"):
        assert all(key in keys(word) for word in spellings(key))


def test_every_word_begins_with_a_prefix_spelling_of_what_it_carries() -> None:
    """A wildcard prefix matches a word whose folded form, key or alternate key starts with
    it; the automaton looks for prefix_spellings, so every such word must start with one."""
    for word in vocabulary():
        for carried in {word, *keys(word)} - {None}:
            assert carried is not None
            for length in range(3, len(carried) + 1):
                form = carried[:length]
                assert word.startswith(tuple(prefix_spellings(form))), (word, form)


PIECES = [
    *"abcdeéèàçôœæIAlLsSxzy .,;:-'’\n\t_()«»!?0123",
    *["  ", " - ", " – ", "l’", "d'", "qu’", "call-center", "centres", "IA", "I.A.", "IAs", "PMEs"],
    *["œuvre", "Œuvre", "centre d'appels", "Centre", "organizations", "companies", "journaux"],
    *["externalisation", "\u202f", "\u00a0", "ß", "µ", "½", "مرحبا", "\u00ad", "Ms", "As", "U.S."],
    *["\u200b", "😀", "ﬁ", "e\u0301", "ʼ", "´", "Ⅳ", "™", "…", "2,5", "l’IA", "d’une", "S&P"],
    *["I\u2024A\u2024", "U\uff0eS\uff0e", "Œs", "ŒAs", "Æ", "jusqus’", "lorsqus'", "manœuvre"],
    *["a\ufe4db", "c\uff3fd"],  # low lines outside Windows-1252: joining gaps
    *["الـذكـاء", "وَالذَّكَاءُ", "٢٠٢٦", "،", "؟", "بالشركات", "ﻻ", "ى", "ة", "I.A."],  # Arabic
]  # fmt: skip


def random_texts(count: int, seed: int = 20261127) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30))) for _ in range(count)]


def test_the_fast_field_text_agrees_with_the_word_by_word_one() -> None:
    """Most texts are folded with whole-text operations; they must give the words, phrase
    breaks, spans and ranks that tokenize gives."""
    fast = []
    for text in CORPUS + random_texts(4000):
        field = FieldText.of(text)
        tokens = tokenize(text)
        words = field.words
        plain = [w.replace("\x01", "oe").replace("\x02", "ae") for w in field.spaced.split()]
        assert plain == tokens.raw, text
        assert [text[a:b] for a, b in zip(words.text_starts, words.text_ends, strict=True)] == [
            text[a:b] for a, b in zip(tokens.starts, tokens.ends, strict=True)
        ], text
        joined = [
            field.joined(words.ends[i - 1], words.starts[i]) for i in range(1, len(words.starts))
        ]
        assert joined == tokens.joined[1:], text
        assert words.ranks == word_ranks(text, tokens), text
        fast.append(not field.word_by_word)
    assert sum(fast[: len(CORPUS)]) >= 0.95 * len(CORPUS)  # news text takes the fast path
    assert sum(fast[len(CORPUS) :]) > 500  # random text has rarer characters


def patterns(rng: random.Random, count: int) -> list[tuple[tuple[str, ...], ...]]:
    """Word patterns as the matcher makes them from terms: runs of one to six words of the
    corpus texts or random words, a wildcard word now and then (so some phrases have more than
    MAX_SPELLINGS spellings, some a wildcard in the middle)."""
    vocabulary_words = sorted(vocabulary())
    corpus_words = [text.split() for text in CORPUS if text]
    found: list[tuple[tuple[str, ...], ...]] = []
    while len(found) < count:
        length = rng.choice([1, 1, 2, 2, 3, 4, 6])
        if rng.random() < 0.5:
            chosen = [rng.choice(vocabulary_words) for _ in range(length)]
        else:
            text = rng.choice(corpus_words)
            first = rng.randrange(len(text))
            chosen = text[first : first + length]
        text = " ".join(w + WILDCARD if len(w) >= 4 and rng.random() < 0.15 else w for w in chosen)
        try:
            term = parse_term(text)
        except ValueError:
            continue
        assert isinstance(term, WordTerm)
        found.append(term.words)
    return found


def same_occurrences(automaton: TermAutomaton, trie: TermIndex, text: str) -> set[Occurrence]:
    """The automaton's occurrences in ``text`` as ``(pattern, first word, word count)``,
    checked equal to the trie's."""
    field = FieldText.of(text)
    starts, ends = field.words.starts, field.words.ends
    found = {
        (pattern, starts.index(start), ends.index(end) - starts.index(start) + 1)
        for pattern, spans in automaton.find(field).items()
        for start, end in spans
    }
    assert found == set(trie.occurrences(tokenize(text))), text
    return found


@pytest.mark.slow
def test_the_automaton_finds_what_the_trie_finds() -> None:
    rng = random.Random(7)
    automaton, trie = TermAutomaton(), TermIndex()
    for pattern in patterns(rng, 1500):
        assert automaton.add(pattern) == trie.add(pattern)
    texts = CORPUS + random_texts(1500, seed=3)
    texts += [
        " ".join(rng.choice(CORPUS).split()[:12] + rng.choices(PIECES, k=4)) for _ in range(1500)
    ]
    hits: Counter[int] = Counter()  # occurrences by number of words
    for text in texts:
        found = same_occurrences(automaton, trie, text)
        hits.update(count for _, _, count in found)
    assert hits[1] > 2000
    assert sum(n for count, n in hits.items() if count >= 3) > 300


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("mise en œuvre", "la mise en oeuvre", ["mise en oeuvre"]),
        ("mise en oeuvre", "la MISE EN ŒUVRE du plan", ["mise en oeuvre"]),  # word by word
        ("mise en oeuvre", "la mise en œuvre du plan", ["mise en \x01uvre"]),
        ("vœux", "les voeux et les vœu", ["voeux", "v\x01u"]),
        ("centre* d'appel", "les Centres d’appels", ["centres d appels"]),
        ("centre* d'appel", "les Centres, appels", []),
        ("d'appel*", "centre d’appels", ["d appels"]),
        ("organis*", "Organizations", ["organizations"]),
        ("Maroc France", "Maroc – France", ["maroc france"]),
        ("Maroc France", "Maroc : France", []),
        ("IA", "l’IA\u202fet les IAs", ["ia", "ia"]),
        ("IA", "U.S. et I.A.", ["ia"]),
        ("IA", "IA مرحبا", ["ia"]),
        ("IA", "L’I\u2024A\u2024 arrive", ["ia"]),  # a dot leader is a dot once folded
        ("oe", "Les Œs", ["oe"]),  # a one-letter acronym plural
        ("mano*", "La manœuvre", ["man\x01uvre"]),  # the o of the prefix is half the œ
        ("encyclopa*", "l’encyclopædie", ["encyclop\x02die"]),
        ("grande mano*", "la grande manœuvre, les manoeuvres", ["grande man\x01uvre"]),
    ],
)
def test_found_spans(term: str, text: str, found: list[str]) -> None:
    automaton = TermAutomaton()
    parsed = parse_term(term)
    assert isinstance(parsed, WordTerm)
    automaton.add(parsed.words)
    field = FieldText.of(text)
    spans = automaton.find(field).get(0, [])
    assert [field.spaced[a:b] for a, b in spans] == found


def test_a_phrase_with_too_many_spellings_is_found_by_its_first_words() -> None:
    term = "centres journaux organisations companies centres journaux"
    words = term_words(term)
    count = 1
    for word in words:
        count *= len({s for key in word for s in spellings(key)})
    assert count > MAX_SPELLINGS
    automaton = TermAutomaton()
    automaton.add(words)
    text = "Les Center journal organizations company centers journaux, fin"
    field = FieldText.of(text)
    (span,) = automaton.find(field)[0]
    assert text[slice(*field.original(*span))] == text[4:-5]
    assert automaton.find(FieldText.of(text.replace("company", "company."))) == {}


def test_positions_map_back_to_the_text() -> None:
    text = "Loi  de finances – 2027 : l’IA, 2,5 %"
    field = FieldText.of(text)
    words = field.words
    assert [text[a:b] for a, b in zip(words.text_starts, words.text_ends, strict=True)] == [
        "Loi", "de", "finances", "2027", "l", "IA", "2", "5",
    ]  # fmt: skip
    start = field.spaced.index("de finances 2027")
    assert (
        text[slice(*field.original(start, start + len("de finances 2027")))] == "de finances – 2027"
    )


def test_a_spelling_with_many_ligatures_is_written_all_one_way_or_the_other() -> None:
    """Each oe/ae may be œ/æ in the text; past MAX_LIGATURES pairs, only all or none are, so
    an odd term cannot add millions of keys."""
    automaton = TermAutomaton()
    automaton.add(term_words("oeoeoeoeoeoe aeae"))
    assert len(automaton._keys) <= 2 * 4 * 4  # two ways for the first word, four for the second
    for text, found in [
        ("oeoeoeoeoeoe aeae", True),
        ("œœœœœœ ææ", True),
        ("œœœœœœ aeæ", True),
        ("œoeœœœœ aeae", False),  # mixed, past the limit
    ]:
        assert bool(automaton.find(FieldText.of(text))) is found, text


def test_patterns_crowding_one_key_are_found_as_the_trie_finds_them() -> None:
    """Many phrases sharing their automaton key and their first words (a wildcard word, a
    head of more than MAX_SPELLINGS spellings) are indexed by the word that follows."""
    rng = random.Random(11)
    # (not Arabic words: the trie keys text words, it cannot undo clitics and plurals as the
    # automaton's spellings do; tests/terms/test_arabic.py checks those)
    words = sorted(w for w in vocabulary() if w.isalpha() and len(w) > 3 and not is_arabic(w))
    head = "centres journaux organisations companies"
    terms = [f"centre* {rng.choice(words)}" for _ in range(40)]
    terms += [f"centre* d'appel* {rng.choice(words)}" for _ in range(20)]
    terms += [f"{head} {rng.choice(words)} {rng.choice(words)}" for _ in range(40)]
    terms += ["centre*", "centre* d'appel*", f"{head} centres"]
    automaton, trie = TermAutomaton(), TermIndex()
    for term in terms:
        parsed = parse_term(term)
        assert isinstance(parsed, WordTerm)
        assert automaton.add(parsed.words) == trie.add(parsed.words)
    assert any(type(value) is not tuple for value in automaton.build().values())  # indexed
    texts = [
        " ".join(rng.choice(["Centres", "centre", "d’appels", head, *rng.sample(words, 3)])
                 for _ in range(rng.randint(3, 30)))
        for _ in range(400)
    ]  # fmt: skip
    texts += [t.replace(" ", ", ", 3) for t in texts[:100]]
    found_any = 0
    for text in texts:
        found = same_occurrences(automaton, trie, text)
        found_any += sum(1 for pattern, _, count in found if count >= 2)
    assert found_any > 100


SEPARATORS = [", ", ". ", " / ", " (", ") ", " : ", "; ", " ", "-", "’"]


def split_terms(rng: random.Random, count: int) -> list[str]:
    """Terms of two to five words of the corpus, punctuation between some of them."""
    corpus_words = [words for text in CORPUS if len(words := tokenize(text).raw) >= 2]
    found: list[str] = []
    while len(found) < count:
        words = rng.choice(corpus_words)
        first = rng.randrange(len(words) - 1)
        chosen = words[first : first + rng.randint(2, 5)]
        term = chosen[0] + "".join(rng.choice(SEPARATORS) + word for word in chosen[1:])
        parsed = parse_term(term) if term_problem(term) is None else None
        if isinstance(parsed, WordTerm) and parsed.breaks:
            found.append(term)
    return found


def test_a_term_split_by_punctuation_is_its_phrases_one_after_the_other() -> None:
    """``Dr. Oetker``: the matcher finds each phrase the punctuation leaves and chains them;
    the oracle: the trie's occurrences of each phrase, each starting at the word after the
    previous one, whatever lies between."""
    rng = random.Random(11)
    terms = split_terms(rng, 400)
    matcher = Matcher([RuleConfig.model_validate({"name": f"t{k}", "any": [term]})
                       for k, term in enumerate(terms)])  # fmt: skip
    trie = TermIndex()
    parts: list[list[int]] = []
    for term in terms:
        parsed = parse_term(term)
        assert isinstance(parsed, WordTerm)
        parts.append([trie.add(words) for words in parsed.parts()])
    texts = CORPUS + [
        rng.choice(SEPARATORS).join(rng.choice(CORPUS).split(rng.choice(SEPARATORS)))
        for _ in range(1500)
    ]
    chained = 0
    for text in texts:
        tokens = tokenize(text)
        at: dict[int, dict[int, int]] = {}  # pattern → first word → word count
        for pattern, first, count in trie.occurrences(tokens):
            at.setdefault(pattern, {})[first] = max(count, at.get(pattern, {}).get(first, 0))
        expected: dict[str, set[tuple[int, int]]] = {}
        for k, patterns in enumerate(parts):
            for first, count in at.get(patterns[0], {}).items():
                after = first + count
                for pattern in patterns[1:]:
                    after = after + at.get(pattern, {}).get(after, -after - 1)
                    if after < 0:
                        break
                if after > 0:
                    span = (tokens.starts[first], tokens.ends[after - 1])
                    expected.setdefault(f"t{k}", set()).add(span)
        found = {
            match.rule: {(hit.start, hit.end) for hit in match.hits}
            for match in matcher.match_fields({"title": text})
        }
        assert found == expected, text
        chained += len(found)
    assert chained > 500
