"""Arabic in digests (issue 21): an Arabic digest's words and layout, and Arabic titles and
snippets in any digest (HTML ``dir="auto"`` and ``lang``, Unicode isolates in the text)."""

from __future__ import annotations

import pytest

from monitor.config.subscribers import Language
from monitor.digest.i18n import LANGUAGES, STRINGS, count_text, direction, plural, waiting_text
from monitor.digest.render import Renderer
from monitor.digest.templating import FSI, PDI, RLM, isolate
from monitor.digest.views import Profile, script_language
from tests.support.digest import CASABLANCA, Elements, digest, item

ARABIC_TITLE = "مراكز الاتصال بالمغرب تراهن على الذكاء الاصطناعي"
ARABIC = item(
    title=ARABIC_TITLE,
    summary="تستعد مراكز الاتصال لحظر الاستمالة الهاتفية في فرنسا ابتداء من غشت 2026.",
    rules=("centres",),
    terms={"centres": ("مراكز الاتصال",)},
    key="ar",
)
FRENCH = item(key="fr")


def test_every_language_has_its_strings() -> None:
    assert set(LANGUAGES) == {"fr", "en", "ar"} == set(STRINGS)
    assert direction("ar") == "rtl"
    assert direction("fr") == direction("en") == "ltr"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "لا مقالات جديدة"),
        (1, "مقال جديد واحد"),
        (2, "مقالان جديدان"),  # the dual
        (3, "3 مقالات جديدة"),
        (10, "10 مقالات جديدة"),
        (11, "11 مقالًا جديدًا"),
        (99, "99 مقالًا جديدًا"),
        (100, "100 مقال جديد"),
        (102, "102 مقال جديد"),
        (103, "103 مقالات جديدة"),  # by n % 100, as CLDR says
        (111, "111 مقالًا جديدًا"),
    ],
)
def test_arabic_counts_take_the_six_plural_forms(n: int, text: str) -> None:
    assert count_text("ar", n) == text


def test_three_forms_elsewhere() -> None:
    assert [plural(("none", "one", "{n} many"), n) for n in (0, 1, 2)] == ["none", "one", "2 many"]
    assert waiting_text("ar", 0) == ""
    assert waiting_text("ar", 2) == "مقالان آخران في الانتظار"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (ARABIC_TITLE, "ar"),
        ("Le360 : " + ARABIC_TITLE, "ar"),  # mostly Arabic
        ("Les centres d'appels et l'IA : « الذكاء الاصطناعي »", None),  # mostly French
        ("Démarchage téléphonique", None),
        ("2026", None),
    ],
)
def test_an_item_is_taken_for_arabic_when_most_letters_are(text: str, language: str | None) -> None:
    assert script_language(text) == language


def render(language: Language) -> tuple[str, str, str]:
    renderer = Renderer(CASABLANCA)
    profile = Profile(language)
    both = digest(ARABIC, FRENCH)
    return (
        renderer.subject(both, profile),
        renderer.text(both, profile),
        renderer.html(both, profile),
    )


def attributes(html: str, tag: str) -> list[dict[str, str | None]]:
    parser = Elements()
    parser.feed(html)
    return [dict(attrs) for name, attrs in parser.tags if name == tag]


def test_an_arabic_digest_is_laid_out_right_to_left() -> None:
    subject, text, html = render("ar")
    assert subject == "[رصد] مقالان جديدان — centres, demarchage"
    assert attributes(html, "html") == [{"lang": "ar", "dir": "rtl"}]
    container = attributes(html, "div")[0]
    assert container["dir"] == "rtl"  # webmail drops <html>: the container says it too
    assert "padding:0 22px 0 0" in str(attributes(html, "ol")[0]["style"])  # numbers on the right
    assert "أُرسل إلى analyste في" in text and "dg_test" not in text  # (the id: a header)
    assert "بالتوقيت المحلي (Africa/Casablanca)." in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_title_and_snippet_takes_its_own_direction(language: Language) -> None:
    _, _, html = render(language)
    titled = [a for a in attributes(html, "div") if a.get("dir") == "auto"]
    snippets = [a for a in attributes(html, "p") if a.get("dir") == "auto"]
    assert len(titled) == len(snippets) == 2
    # lang= where it differs from the digest's: Arabic in a French or English digest, unknown
    # ("") for a Latin-script item in an Arabic one
    expected = [None, ""] if language == "ar" else ["ar", None]
    assert [a.get("lang") for a in titled] == [a.get("lang") for a in snippets] == expected
    assert attributes(html, "html")[0]["dir"] == direction(language)
    links = [a for a in attributes(html, "div") if a.get("dir") == "ltr" and "break-all" in str(a)]
    assert len(links) == 2  # the links read left to right, whatever the digest


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_text_part_isolates_arabic_lines(language: Language) -> None:
    _, text, _ = render(language)
    lines = text.splitlines()
    title = next(line for line in lines if ARABIC_TITLE[:10] in line)
    mark = RLM if language == "ar" else ""  # an Arabic digest's lines read right to left
    assert title == f"1. {mark}{FSI}{ARABIC_TITLE}{PDI}"
    snippet = next(line for line in lines if "الاستمالة" in line)
    assert snippet.startswith(f"   {mark}{FSI}") and snippet.endswith(PDI)
    french = next(line for line in lines if "démarchage téléphonique" in line.lower())
    assert FSI not in french and PDI not in french


def test_isolate_wraps_each_right_to_left_line_inside_its_indent() -> None:
    assert isolate("Démarchage") == "Démarchage"
    assert isolate("مراكز\n   الاتصال\n   IA") == f"{FSI}مراكز{PDI}\n   {FSI}الاتصال{PDI}\n   IA"
    assert isolate("مراكز\n   IA", "rtl") == f"{RLM}{FSI}مراكز{PDI}\n   IA"
