"""Digests people can read: their language, grouped by rule or story, inline-styled HTML that
fits a phone, plain text that fits a terminal, and how many items still wait (issue 4)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Literal

import pytest
from markupsafe import Markup

from monitor.config.subscribers import Language, SubscriberConfig
from monitor.core.models import WAITING_COUNTED, DigestItem
from monitor.digest import views as views_module
from monitor.digest.render import Renderer
from monitor.digest.templating import compile_templates
from tests.support.digest import CASABLANCA, digest, item, parse

GroupBy = Literal["rule", "story"]


def for_subscriber(
    config_language: Language = "fr",
    language: Language | None = None,
    group_by: GroupBy = "rule",
    rule_order: tuple[str, ...] = (),
) -> Renderer:
    subscriber = SubscriberConfig(
        name="analyste", console=True, language=language, group_by=group_by
    )
    return Renderer(
        CASABLANCA, language=config_language, subscribers=[subscriber], rule_order=rule_order
    )


@pytest.mark.parametrize(
    ("config_language", "language", "words", "date"),
    [
        ("fr", None, ("nouveaux articles", "termes :", 'lang="fr"', "Envoyé à analyste"), "26/11"),
        ("en", None, ("new articles", "terms:", 'lang="en"', "Sent to analyste"), "2026-11-26"),
        ("fr", "en", ("new articles", "terms:", 'lang="en"', "Sent to analyste"), "2026-11-26"),
        ("en", "fr", ("nouveaux articles", "termes :", 'lang="fr"', "Envoyé à analyste"), "26/11"),
    ],
)
def test_strings_follow_the_subscriber_language_else_the_config(
    config_language: Language,
    language: Language | None,
    words: tuple[str, ...],
    date: str,
) -> None:
    renderer = for_subscriber(config_language, language)
    rendered = digest(item(), item(key="2", published=None))
    subject, text, html = (
        renderer.subject(rendered),
        renderer.text(rendered),
        renderer.html(rendered),
    )
    assert words[0] in subject and words[0] in text and words[0] in html
    assert words[1] in text and words[1] in html
    assert words[2] in html and words[3] in text
    assert date in text and date in html
    other = "date unknown" if words[0] == "nouveaux articles" else "date inconnue"
    assert other not in text  # no string of the other language leaks in


@pytest.mark.parametrize(
    ("language", "waiting", "said"),
    [
        ("fr", 12, "12 autres articles en attente"),
        ("en", 12, "12 more articles waiting"),
        ("fr", 1, "1 autre article en attente"),
        ("en", 1, "1 more article waiting"),
    ],
)
def test_the_digest_says_how_many_items_wait(language: Language, waiting: int, said: str) -> None:
    renderer = for_subscriber(language)
    rendered = replace(digest(item()), waiting=waiting)
    assert said in renderer.text(rendered)
    assert said in "".join(parse(renderer.html(rendered)).text)
    assert f"+{waiting}" in renderer.subject(rendered)


@pytest.mark.parametrize(
    ("language", "said", "short"),
    [
        (
            "fr",
            "plus de 10\u202f000 autres articles en attente",
            "(plus de 10 000 en attente)",  # (a subject line has plain spaces)
        ),
        ("en", "over 10,000 more articles waiting", "(over 10,000 waiting)"),
        ("ar", "أكثر من 10000 مقال آخر في الانتظار", "(أكثر من 10000 في الانتظار)"),
    ],
)
def test_a_backlog_past_the_count_is_said_to_be_more(
    language: Language, said: str, short: str
) -> None:
    """The outbox counts what waits up to WAITING_COUNTED: past it, "more than", not a figure."""
    renderer = for_subscriber(language)
    rendered = replace(digest(item()), waiting=WAITING_COUNTED + 1)
    assert said in renderer.text(rendered)
    assert said in "".join(parse(renderer.html(rendered)).text)
    assert short in renderer.subject(rendered)
    assert "10001" not in renderer.text(rendered) + renderer.subject(rendered)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_nothing_waiting_is_not_mentioned(language: Language) -> None:
    renderer = for_subscriber(language)
    rendered = digest(item())
    for output in (renderer.subject(rendered), renderer.text(rendered), renderer.html(rendered)):
        assert "attente" not in output and "waiting" not in output


GROUPED = (
    item(title="Both rules", rules=("demarchage", "ia"), key="1"),
    item(title="Only ia", rules=("ia",), terms={"ia": ("IA",)}, key="2"),
    item(title="Only demarchage", key="3"),
)


def section_of(text: str, heading: str) -> str:
    """The lines of a text digest's section, up to the next heading or the footer."""
    body = text[text.index(heading) + len(heading) :]
    return re.split(r"\n\n(?=\S+ \(\d+\)\n)|\n-- \n", body)[0]


@pytest.mark.parametrize(
    ("order", "sections", "both_under", "also"),
    [
        ((), ["demarchage (2)", "ia (1)"], "demarchage (2)", "aussi : ia"),
        (("ia", "demarchage"), ["ia (2)", "demarchage (1)"], "ia (2)", "aussi : demarchage"),
    ],
)
def test_items_are_listed_once_under_their_first_rule(
    order: tuple[str, ...], sections: list[str], both_under: str, also: str
) -> None:
    renderer = for_subscriber(rule_order=order)
    text = renderer.text(digest(*GROUPED))
    html = renderer.html(digest(*GROUPED))
    assert re.findall(r"<h2[^>]*>(.*?)</h2>", html) == sections
    assert [line for line in text.splitlines() if line in sections] == sections
    for title in ("Both rules", "Only ia", "Only demarchage"):
        assert text.count(title) == 1 and "".join(parse(html).text).count(title) == 1
    assert "Both rules" in section_of(text, both_under)
    assert "Only ia" in section_of(text, next(s for s in sections if s.startswith("ia")))
    both = text[text.index("Both rules") :].split("\n\n")[0]
    assert also in both  # the other rule is named
    assert also in "".join(parse(html).text)
    assert "aussi :" not in text[text.index("Only ia") :].split("\n\n")[0]


def test_story_grouping_shows_each_story_once_with_its_other_outlets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lead = item(title="Le démarchage interdit", key="1")
    echo = replace(item(title="Démarchage : c'est fini", key="2"), source="le360")
    alone = item(title="Autre chose", key="3", rules=("ia",), terms={})

    def stories(items: object) -> list[tuple[DigestItem, tuple[DigestItem, ...]]]:
        return [(lead, (echo,)), (alone, ())]  # what monitor.digest.stories would say

    monkeypatch.setattr(views_module, "group_by_story", stories)
    renderer = for_subscriber(group_by="story")
    text = renderer.text(digest(lead, echo, alone))
    html = renderer.html(digest(lead, echo, alone))
    assert "c'est fini" not in text and "c&#39;est fini" not in html  # once, as its lead
    assert "aussi dans : le360" in text
    assert re.search(r"aussi dans :\s*<a href=\"https://leseco.ma/a/1\"[^>]*>le360</a>", html)
    assert "règles : demarchage" in text and "règles : ia" in text
    assert re.findall(r"<h2[^>]*>(.*?)</h2>", html) == ["Articles (2)"]


def test_story_grouping_joins_one_story_from_several_outlets() -> None:
    """With the real clustering (monitor.digest.stories): outlet suffixes do not split a story."""
    title = "Le démarchage téléphonique interdit au Maroc dès janvier"
    lead = item(title=title, key="1")
    echo = replace(
        item(title=f"{title} - Le360", link="https://le360.ma/x", key="2"), source="le360"
    )
    other = replace(item(title="Les centres d’appel recrutent à Fès", key="3"), source="medias24")
    renderer = for_subscriber("en", group_by="story")
    text = renderer.text(digest(lead, echo, other))
    assert "Articles (2)" in text and text.count(title) == 1
    assert "also in: le360" in text and "https://le360.ma/x" not in text
    html = renderer.html(digest(lead, echo, other))
    assert 'href="https://le360.ma/x"' in html  # the other outlet, one tap away
    assert [tag for tag, _ in parse(html).tags].count("li") == 2


LAYOUTS = [
    pytest.param(language, group_by, id=f"{language}-{group_by}")
    for language in ("fr", "en")
    for group_by in ("rule", "story")
]


@pytest.mark.parametrize(("language", "group_by"), LAYOUTS)
def test_html_uses_inline_styles_and_fits_a_phone(language: Language, group_by: GroupBy) -> None:
    renderer = for_subscriber(language, group_by=group_by)
    html = renderer.html(replace(digest(*GROUPED), waiting=3))
    elements = parse(html)
    names = {tag for tag, _ in elements.tags}
    assert not names & {"style", "link", "script", "table", "img", "iframe"}
    attributes = {name for _, attrs in elements.tags for name, _ in attrs}
    assert "class" not in attributes and "width" not in attributes
    viewport = [dict(a) for tag, a in elements.tags if tag == "meta" and ("name", "viewport") in a]
    assert viewport and "width=device-width" in (viewport[0]["content"] or "")
    body = next(dict(a) for tag, a in elements.tags if tag == "div")
    assert "max-width:600px" in (body["style"] or "") and "margin:0 auto" in (body["style"] or "")
    styles = [value or "" for _, attrs in elements.tags for n, value in attrs if n == "style"]
    widths = [int(w) for s in styles for w in re.findall(r"(?<!-)width:(\d+)px", s)]
    assert widths == []  # nothing wider than the phone: only max-width
    links = [dict(a) for tag, a in elements.tags if tag == "div" and "break-all" in str(a)]
    assert len(links) == len(GROUPED) if group_by == "rule" else len(links) >= 1


def test_the_second_net_keeps_every_style_of_our_template() -> None:
    """nh3 silently drops CSS properties missing from its allow-list: compare with and without."""
    rendered = digest(*GROUPED)
    netted = Renderer(CASABLANCA)
    templates = compile_templates(None)
    templates.html.environment.filters["sanitize"] = Markup  # the net removed
    bare = Renderer(CASABLANCA, templates=templates)

    def shape(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
        return [(t, [(n, v) for n, v in a if n != "rel"]) for t, a in parse(html).tags]

    def css(html: str) -> list[set[str]]:
        return [
            {rule.strip() for rule in (v or "").split(";") if rule.strip()}
            for _, attrs in parse(html).tags
            for n, v in attrs
            if n == "style"
        ]

    assert [t for t, _ in shape(netted.html(rendered))] == [
        t for t, _ in shape(bare.html(rendered))
    ]
    assert css(netted.html(rendered)) == css(bare.html(rendered))


@pytest.mark.parametrize(("language", "group_by"), LAYOUTS)
def test_plain_text_reads_well_in_a_terminal(language: Language, group_by: GroupBy) -> None:
    long_title = "Les centres d’appel marocains face au démarchage téléphonique " * 3
    entry = item(title=long_title, summary="contexte " * 40 + "démarchage" + " suite" * 40)
    renderer = for_subscriber(language, group_by=group_by)
    link = "https://leseco.ma/" + "tres-long-chemin-" * 8
    text = renderer.text(replace(digest(entry, replace(entry, link=link, id="2")), waiting=4))
    for line in text.splitlines():
        assert len(line) <= 78 or line.strip() in (link, entry.link), line
    assert "<" not in text and "&amp;" not in text
    assert "*démarchage*" in text  # the highlight, in plain text
    assert text.count("\n\n1. ") + text.count("\n\n2. ") == 2  # items set apart
    assert f"   {link}" in text  # links whole, never cut


def test_an_empty_digest_still_renders() -> None:
    renderer = Renderer(CASABLANCA, language="en")
    empty = digest()
    assert renderer.subject(empty) == "[monitor] no new articles"
    assert "no new articles" in renderer.text(empty)
    assert "<h2" not in renderer.html(empty)
