"""Rendering digests: escaping, highlighting, local dates, subject line (DESIGN §3.6)."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.core.models import Hit
from monitor.digest import views as views_module
from monitor.digest.render import Renderer, clean_line, safe_href, sanitize, snippet, split_parts
from monitor.digest.snippets import flatten
from monitor.rules.spans import find_spans
from tests.support.digest import CASABLANCA, digest, item, parse


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(CASABLANCA)


HOSTILE_TITLES = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '"><svg onload=alert(1)>',
    "</mark><script>x</script>",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_feed_text_is_escaped_in_html(renderer: Renderer, title: str) -> None:
    html = renderer.html(digest(item(title=title, summary=title)))
    elements = parse(html)
    names = [tag for tag, _ in elements.tags]
    assert "script" not in names and "img" not in names and "svg" not in names
    assert "<script" not in html.lower()
    assert not [name for _, attrs in elements.tags for name, _ in attrs if name.startswith("on")]
    # The hostile text is still there, as text the reader can see.
    assert title in "".join(elements.text)


@pytest.mark.parametrize(
    ("link", "followable"),
    [
        ("https://leseco.ma/a/1", True),
        ("http://leseco.ma/a/1?x=1&y=2", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox(1)", False),
        ("//evil.example/x", False),
        ("https://leseco.ma/a b", False),
        ("", False),
    ],
)
def test_only_http_links_become_hrefs(renderer: Renderer, link: str, followable: bool) -> None:
    assert (safe_href(link) is not None) is followable
    elements = parse(renderer.html(digest(item(link=link))))
    hrefs = [
        value for tag, attrs in elements.tags if tag == "a" for n, value in attrs if n == "href"
    ]
    assert hrefs == ([link] if followable else [])
    if link:  # shown as text either way
        assert link in "".join(elements.text)


def test_snippet_highlights_folded_forms_of_configured_terms(renderer: Renderer) -> None:
    terms = {"centres": ("centres d'appels",), "ia": ("IA",)}
    entry = item(
        title="L’IA arrive dans les centres d’appel",
        summary="Au Maroc, le centre d’appel de Fès adopte l’IA, pas la via ferrata.",
        rules=("centres", "ia"),
        terms=terms,
    )
    html = renderer.html(digest(entry))
    marked = re.findall(r"<mark[^>]*>(.*?)</mark>", html)
    assert marked == ["IA", "centres d’appel", "centre d’appel", "IA"]
    assert "via</mark>" not in html


@pytest.mark.parametrize(
    ("text", "terms", "expected"),
    [
        ("Le démarchage recule.", ["demarchage"], ["démarchage"]),
        ("Les centres d’appel recrutent.", ["centre d'appels"], ["centres d’appel"]),
        ("Pas de terme ici.", ["IA"], []),
        ("L'IA, l’IA et (IA) mais pas Nvidia.", ["ia"], ["IA", "IA", "IA"]),
    ],
)
def test_snippet_spans_point_at_the_matched_words(
    text: str, terms: list[str], expected: list[str]
) -> None:
    window, spans = snippet(text, find_spans(text, terms))
    assert window == text
    assert [window[a:b] for a, b in spans] == expected


def test_long_text_snippet_is_a_window_around_the_first_match() -> None:
    text = "avant " * 200 + "le démarchage\nest\tinterdit " + "après " * 200
    window, spans = snippet(text, find_spans(text, ["démarchage"]), width=120)
    assert window.startswith("…") and window.endswith("…")
    assert len(window) <= 122
    assert "\n" not in window and "\t" not in window
    assert [window[a:b] for a, b in spans] == ["démarchage"]
    assert "est interdit" in window


def test_snippet_without_match_is_the_start_of_the_text() -> None:
    text = "début " + "mot " * 200
    window, spans = snippet(text, [], width=50)
    assert window.startswith("début") and window.endswith("…")
    assert spans == []


@pytest.mark.parametrize(
    "text",
    ["  L'IA\n\n\tet\x00 les  centres\u2028d'appels  ", "IA", "", " \n ", "a\x85b  IA"],
)
def test_flatten_moves_spans_with_their_characters(text: str) -> None:
    spans = find_spans(text, ["IA", "centres d'appels"])
    flat, moved = flatten(text, spans)
    assert flat == clean_line(text)
    assert [flat[a:b] for a, b in moved] == [" ".join(text[a:b].split()) for a, b in spans]


def slow_flatten(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """flatten character by character (what it was before issue 19): the oracle."""
    pieces: list[str] = []
    where: list[int] = []  # for each character of text (and its end): its offset in the line
    length, space = 0, False
    for char in text:
        if char.isspace() or re.match(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", char):
            where.append(length)
            space = length > 0
            continue
        if space:
            pieces.append(" ")
            length += 1
            space = False
        where.append(length)
        pieces.append(char)
        length += 1
    where.append(length)
    moved = sorted((where[a], where[b]) for a, b in spans if 0 <= a < b <= len(text))
    merged: list[tuple[int, int]] = []
    for a, b in moved:
        if a >= b:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return "".join(pieces), merged


def test_flatten_agrees_with_a_character_by_character_walk() -> None:
    rng = random.Random(19)
    alphabet = ["a", "é", "IA", " ", "  ", "\t", "\n", "\r\n", "\x00", "\x1b", "\x85", "\xa0"]
    alphabet += ["\u2028", "\u3000", "\x7f", "\x1c", "\u200b", "’"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        spans = [(rng.randint(-1, len(text) + 1), rng.randint(-1, len(text) + 1)) for _ in range(3)]
        assert flatten(text, spans) == slow_flatten(text, spans), (text, spans)
        assert clean_line(text) == slow_flatten(text, [])[0]


def test_split_parts_covers_the_whole_text() -> None:
    parts = split_parts("a IA b", [(2, 4)])
    assert parts == [("a ", False), ("IA", True), (" b", False)]


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Africa/Casablanca", "26/11/2026 08:00"),
        ("Europe/Paris", "26/11/2026 08:00"),
        ("UTC", "26/11/2026 07:00"),
        ("America/Montreal", "26/11/2026 02:00"),
    ],
)
def test_dates_are_shown_in_the_renderer_zone(zone: str, shown: str) -> None:
    renderer = Renderer(ZoneInfo(zone))
    rendered = digest(item(published=datetime(2026, 11, 26, 7, 0, tzinfo=UTC)))
    assert shown in renderer.text(rendered)
    assert shown in renderer.html(rendered)


def test_undated_item_says_so(renderer: Renderer) -> None:
    assert "date inconnue" in renderer.text(digest(item(published=None)))


def test_text_and_html_list_the_same_items(renderer: Renderer) -> None:
    items = [
        item(title="Premier <titre>", link="https://a.example/1", key="1"),
        item(title="Deuxième & dernier", link="https://b.example/2", key="2", rules=("ia",)),
    ]
    rendered = digest(*items)
    text = renderer.text(rendered)
    visible = "".join(parse(renderer.html(rendered)).text)
    for entry in items:
        for shown in (entry.title, entry.link, entry.source, "26/11/2026 08:00"):
            assert shown in text
            assert shown in visible
    assert text.index("Premier") < text.index("Deuxième")
    assert "demarchage" in text and "ia" in text


@pytest.mark.parametrize(
    ("count", "words"),
    [(1, "1 nouvel article"), (3, "3 nouveaux articles"), (0, "aucun nouvel article")],
)
def test_subject_counts_items_and_names_rules(renderer: Renderer, count: int, words: str) -> None:
    items = [
        item(key=str(n), rules=("demarchage", "ia") if n else ("demarchage",)) for n in range(count)
    ]
    subject = renderer.subject(digest(*items))
    assert subject.startswith(f"[veille] {words}")
    if count > 1:
        assert subject.endswith("— demarchage, ia")


def test_subject_is_one_short_line(renderer: Renderer) -> None:
    rules = tuple(f"regle-{n}\r\nBcc: x@y" for n in range(60))
    subject = renderer.subject(digest(item(title="Evil\r\nBcc: x@y", rules=rules)))
    assert "\n" not in subject and "\r" not in subject
    assert not any(ord(c) < 32 for c in subject)
    assert len(subject) <= 200
    assert subject.endswith("…")


def test_text_rendering_drops_control_characters(renderer: Renderer) -> None:
    text = renderer.text(digest(item(title="Rouge\x1b[31m titre\r\nfaux: en-tête\x00")))
    assert "\x1b" not in text and "\x00" not in text and "\r" not in text
    assert "Rouge [31m titre faux: en-tête" in text


# Markup a feed might carry if it ever reached the item list unescaped.
RAW_MARKUP = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)" onclick="alert(2)">x</a>',
    '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>',
    '<a href="//evil.example/x">x</a>',
    '<p style="background:url(javascript:alert(1))" onmouseover="alert(1)">x</p>',
    '<svg><script>alert(1)</script></svg><iframe src="https://evil.example"></iframe>',
    "<style>body{display:none}</style><object data=x></object>",
]


@pytest.mark.parametrize("markup", RAW_MARKUP)
def test_sanitizer_second_net_drops_anything_executable(markup: str) -> None:
    cleaned = str(sanitize(f'<ol><li><a href="https://ok.ma/1">ok</a>{markup}</li></ol>'))
    elements = parse(cleaned)
    names = {tag for tag, _ in elements.tags}
    assert names <= {"ol", "li", "a", "p", "div", "mark"}
    attrs = [(name, value or "") for _, attrs in elements.tags for name, value in attrs]
    assert not [name for name, _ in attrs if name.startswith("on")]
    assert all(re.match(r"https?://", value) for name, value in attrs if name in ("href", "src"))
    assert "javascript" not in cleaned.lower() and "<script" not in cleaned.lower()
    assert 'href="https://ok.ma/1"' in cleaned  # the template's own link survives


def test_sanitizer_keeps_the_template_markup(renderer: Renderer) -> None:
    html = renderer.html(digest(item(), item(title="L'IA & <b>vous</b>", key="2")))
    elements = parse(html)
    marks = [attrs for tag, attrs in elements.tags if tag == "mark"]
    assert marks and all(("style", "background-color:#fff3a3;font-weight:bold") in a for a in marks)
    assert "L'IA & <b>vous</b>" in "".join(elements.text)
    assert [href for tag, attrs in elements.tags for n, href in attrs if n == "href"] == [
        "https://leseco.ma/a/1",
        "https://leseco.ma/a/1",
    ]


def test_highlights_come_from_the_match_explanation() -> None:
    title, summary = "Les call centers misent sur l'IA", "Rien ici."
    content = "Au Maroc, les centres d’appels recrutent des téléconseillers."
    start = content.index("centres")
    explained = replace(
        item(title=title, summary=summary, rules=("centres",)),
        terms={"centres": ("centre*", "IA")},
        hits=(
            ("centres", Hit("centre*", "title", 9, 16)),
            ("centres", Hit("IA", "title", 30, 32)),
            ("centres", Hit("centre*", "content", start, start + 7)),
        ),
        content=content,
    )
    view = Renderer(ZoneInfo("UTC")).views.view(explained)
    assert [text for text, hit in view.title_parts if hit] == ["centers", "IA"]
    # found in the content only: the snippet comes from there, the word highlighted
    assert [text for text, hit in view.snippet_parts if hit] == ["centres"]
    assert view.snippet.startswith("Au Maroc")
    # without an explanation (rows from before they were kept) the terms are found again
    again = Renderer(ZoneInfo("UTC")).views.view(replace(explained, hits=None))
    assert [text for text, hit in again.title_parts if hit] == ["centers", "IA"]
    assert again.snippet == summary


def test_terms_found_in_the_title_only_keep_the_summary_as_snippet() -> None:
    explained = replace(
        item(title="L'IA au Maroc", summary="Résumé sans le terme.", rules=("ia",)),
        terms={"ia": ("IA",)},
        hits=(("ia", Hit("IA", "title", 2, 4)),),
        content="Début du contenu, sans le terme non plus.",
    )
    view = Renderer(ZoneInfo("UTC")).views.view(explained)
    assert view.snippet == "Résumé sans le terme."
    assert [text for text, hit in view.title_parts if hit] == ["IA"]


def test_equal_items_share_one_view_and_different_ones_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renderer = Renderer(CASABLANCA)
    first = item()
    view = renderer.views.view(first)
    # the same item in another subscriber's digest
    assert renderer.views.view(replace(first)) is view
    hit = Hit("démarchage", "summary", 0, 3)
    for other in (
        replace(first, title="Le démarchage autorisé"),
        replace(first, summary="Autre chose."),
        replace(first, published=None),
        replace(first, rules=("demarchage", "ia")),
        replace(first, terms={"demarchage": ("démarchage", "appel")}),
        replace(first, hits=(("demarchage", hit),)),
        replace(first, content="Le démarchage, encore."),
    ):
        shown = renderer.views.view(other)
        assert shown is not view and shown == Renderer(CASABLANCA).views.view(other)
    assert renderer.views.view(first, "en") is not view
    assert renderer.views.view(first, listed_under="demarchage") == Renderer(CASABLANCA).views.view(
        first, listed_under="demarchage"
    )
    # a kept view keeps no article text (the key is a digest of the fields)
    long = replace(first, id="it_long", content="texte " * 20_000)
    renderer.views.view(long)
    assert all(len(repr(key)) < 200 for key in renderer.views._kept)
    monkeypatch.setattr(views_module, "VIEWS_KEPT", 3)
    for n in range(5):
        renderer.views.view(item(key=str(n)))
    assert len(renderer.views._kept) == 3
