"""A test digest's renderings (monitor.digest.trial): marked as a test in the subscriber's
language, around whatever the templates, ours or the user's, render."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.config.subscribers import SubscriberConfig
from monitor.digest.render import load_templates
from monitor.digest.trial import TrialRenderer
from tests.support.digest import digest, item, parse


def renderer(language: str, folder: Path | None = None) -> TrialRenderer:
    subscriber = SubscriberConfig.model_validate(
        {"name": "analyste", "console": True, "language": language}
    )
    return TrialRenderer(
        ZoneInfo("Africa/Casablanca"), templates=load_templates(folder), subscribers=[subscriber]
    )


@pytest.mark.parametrize(
    ("language", "mark", "notice"),
    [
        ("fr", "[TEST] [veille] 1 nouvel article", "Envoi de test (monitor notify --test) : "),
        ("en", "[TEST] [monitor] 1 new article", "Test send (monitor notify --test): "),
        ("ar", "[اختبار] [رصد] مقال جديد واحد", "\u200fإرسال تجريبي (monitor notify --test): "),
    ],
)
def test_subject_text_and_html_say_it_is_a_test(language: str, mark: str, notice: str) -> None:
    sample = digest(item("Le démarchage encadré"))
    rendered = renderer(language)
    assert rendered.subject(sample).startswith(mark)
    text = rendered.text(sample)
    assert text.startswith(notice)
    assert text.splitlines()[2].startswith(mark)  # the template's subject line, marked too
    html = rendered.html(sample)
    page = parse(html)
    assert notice.lstrip("\u200f") in "".join(page.text)
    body = html.index("<body")
    assert body < html.index(notice.lstrip("\u200f")) < html.index("<h1")
    assert ('dir="rtl"' in html[body : html.index("<h1")]) == (language == "ar")


def test_a_users_templates_are_marked_too(tmp_path: Path) -> None:
    (tmp_path / "subject.txt.j2").write_text("Veille: {{ count }} <b>")
    (tmp_path / "digest.html.j2").write_text("<p>{{ subject }}</p>")  # no <body> at all
    rendered = renderer("fr", tmp_path)
    sample = digest(item("Un titre"))
    assert rendered.subject(sample) == "[TEST] Veille: 1 <b>"
    html = rendered.html(sample)
    assert html.startswith('<p dir="ltr" style=')  # the banner first
    assert "aucun n&#x27;a été publié" in html  # escaped as any text put in HTML
    assert html.endswith("<p>[TEST] Veille: 1 &lt;b&gt;</p>")


def test_the_marked_subject_keeps_to_200_characters() -> None:
    sample = digest(item("x" * 400))
    long = TrialRenderer(ZoneInfo("UTC"), templates=None)
    assert len(long.subject(sample)) <= 200
