"""User templates: override and fallback, sandbox and autoescape, errors with file and line."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from jinja2.filters import do_wordwrap

from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.core.errors import ConfigError
from monitor.core.models import Digest, DigestItem
from monitor.digest.render import Renderer, load_templates
from monitor.digest.templating import HTML, NAMES, SUBJECT, TEXT, wordwrap

UTC_ZONE = ZoneInfo("UTC")


def entry(
    key: str, title: str = "Le démarchage recule", rules: tuple[str, ...] = ("dem",)
) -> DigestItem:
    return DigestItem(
        id=f"it_{key}",
        title=title,
        link=f"https://leseco.ma/{key}",
        source="leseco",
        published=datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
        summary="Le démarchage téléphonique recule.",
        rules=rules,
        terms={"dem": ("démarchage",)},
    )


def digest(*items: DigestItem, waiting: int = 0) -> Digest:
    created = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    return Digest("dg_t", "analyste", created, items or (entry("1"),), waiting)


def folder(tmp_path: Path, **files: str) -> Path:
    """A templates folder with ``files`` (``digest_txt`` is written as ``digest.txt.j2``)."""
    for key, body in files.items():
        name = key.replace("_", ".", 1) + ".j2" if key.count("_") else key
        (tmp_path / name).write_text(body, encoding="utf-8")
    return tmp_path


def test_without_a_folder_ours_are_used() -> None:
    templates = load_templates(None)
    assert templates.overridden == frozenset() and templates.folder is None
    assert Renderer(UTC_ZONE, templates=templates).subject(digest()).startswith("[veille] 1 ")


def test_missing_files_fall_back_to_ours(tmp_path: Path) -> None:
    templates = load_templates(folder(tmp_path, subject_txt="ALERTE {{ count }}"))
    assert templates.overridden == {SUBJECT}
    renderer = Renderer(UTC_ZONE, templates=templates)
    assert renderer.subject(digest()) == "ALERTE 1"
    text = renderer.text(digest())
    assert text.startswith("ALERTE 1\n") and "1. Le démarchage recule" in text  # ours, user subject
    assert "max-width:600px" in renderer.html(digest())


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        (TEXT, "{{ count_text }} / {{ waiting_text }} / {{ items[0].source }}", "1 nouvel article"),
        (TEXT, "{% for s in sections %}[{{ s.title }}]{% endfor %}", "[dem]"),
        (HTML, "<p>{{ t.also_in }} {{ items|map(attribute='title')|join('|') }}</p>", "aussi dans"),
        (SUBJECT, "{{ t.prefix }} {{ rules|join('+') }} {{ language }}", "[veille] dem fr"),
    ],
)
def test_user_templates_receive_the_documented_variables(
    tmp_path: Path, name: str, body: str, expected: str
) -> None:
    (tmp_path / name).write_text(body, encoding="utf-8")
    renderer = Renderer(UTC_ZONE, templates=load_templates(tmp_path))
    output = {TEXT: renderer.text, HTML: renderer.html, SUBJECT: renderer.subject}[name](digest())
    assert expected in output


def test_a_user_template_can_extend_ours_and_replace_one_block(tmp_path: Path) -> None:
    body = '{% extends "default/digest.html.j2" %}{% block footer %}<p>Notre pied</p>{% endblock %}'
    renderer = Renderer(UTC_ZONE, templates=load_templates(folder(tmp_path, digest_html=body)))
    html = renderer.html(digest())
    assert "<p>Notre pied</p>" in html and "Heures locales" not in html
    assert 'href="https://leseco.ma/1"' in html  # the rest of ours is still there


def test_feed_text_stays_escaped_in_a_user_html_template(tmp_path: Path) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="x">'
    files = folder(
        tmp_path,
        digest_html="{% for i in items %}<p>{{ i.title }}</p>{% endfor %}",
        digest_txt="{% for i in items %}{{ i.title }}{% endfor %}",
    )
    renderer = Renderer(UTC_ZONE, templates=load_templates(files))
    html = renderer.html(digest(entry("1", title=hostile)))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert hostile in renderer.text(digest(entry("1", title=hostile)))  # text is not HTML


def test_a_user_subject_is_still_one_short_line(tmp_path: Path) -> None:
    body = "{{ items[0].title }}\nBcc: victim@example.com\r\n{{ 'x' * 500 }}"
    renderer = Renderer(UTC_ZONE, templates=load_templates(folder(tmp_path, subject_txt=body)))
    subject = renderer.subject(digest())
    assert "\n" not in subject and "\r" not in subject and len(subject) <= 200
    assert subject.startswith("Le démarchage recule Bcc: victim@example.com xxx")


BROKEN = [
    pytest.param(TEXT, "a\nb\n{% if %}\n", 3, "Expected an expression", id="syntax"),
    pytest.param(
        HTML, "<p>\n{{ subject|nofilter }}</p>", 2, "No filter named 'nofilter'", id="filter"
    ),
    pytest.param(TEXT, "ok\n\n{{ nothere }}\n", 3, "'nothere' is undefined", id="variable"),
    pytest.param(SUBJECT, "{{ t.prefix }}\n{{ t.sourec }}", 2, "sourec", id="string-typo"),
    pytest.param(TEXT, "{{ ''.__class__.__mro__ }}", 1, "SecurityError", id="sandbox"),
    pytest.param(TEXT, "{% set x = [] %}\n{{ x.append(1) }}", 2, "SecurityError", id="immutable"),
    pytest.param(
        HTML, '{% if language == "en" %}\n{{ nope }}{% endif %}', 2, "nope", id="english-only"
    ),
    pytest.param(
        TEXT, '\n{% if group_by == "story" %}{{ 1 // 0 }}{% endif %}', 2, "ZeroDivision", id="story"
    ),
    pytest.param(TEXT, "{% if waiting %}\n\n{{ missing }}{% endif %}", 3, "missing", id="waiting"),
    pytest.param(SUBJECT, "{# nothing #}\n", 1, "the subject renders empty", id="empty-subject"),
]


@pytest.mark.parametrize(("name", "body", "line", "message"), BROKEN)
def test_a_broken_template_is_a_config_error_with_its_file_and_line(
    tmp_path: Path, name: str, body: str, line: int, message: str
) -> None:
    (tmp_path / name).write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_templates(tmp_path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{tmp_path / name}:{line}: "), problem
    assert message in problem


def test_an_error_in_an_included_file_points_at_that_file(tmp_path: Path) -> None:
    files = folder(tmp_path, digest_txt='{% include "part.j2" %}\n')
    (files / "part.j2").write_text("fine\n{{ items[0].nope }}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_templates(files)
    assert caught.value.problems[0].startswith(f"{files / 'part.j2'}:2: ")


def test_every_broken_template_is_reported_at_once(tmp_path: Path) -> None:
    files = folder(tmp_path, digest_txt="{% for %}", digest_html="{{ x }")
    with pytest.raises(ConfigError) as caught:
        load_templates(files)
    assert [p.split(":")[0] for p in caught.value.problems] == [
        str(files / TEXT),
        str(files / HTML),
    ]


def test_a_template_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / SUBJECT).write_bytes("Démarchage".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_templates(tmp_path)
    assert caught.value.problems[0].startswith(f"{tmp_path / SUBJECT}:1: cannot read: ")


def test_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such folder"):
        load_templates(tmp_path / "absent")


def test_a_template_failing_on_a_real_digest_falls_back_to_ours(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # the sample digests have at most two items: this passes the load check
    body = "{% if count > 5 %}\n{{ items[7].title }}{% endif %}{{ count }} articles"
    renderer = Renderer(UTC_ZONE, templates=load_templates(folder(tmp_path, digest_txt=body)))
    assert renderer.text(digest()) == "1 articles"
    many = digest(*(entry(str(n)) for n in range(6)))
    with caplog.at_level(logging.ERROR, logger="monitor"):
        text = renderer.text(many)
    assert "6. Le démarchage recule" in text  # ours, with every item
    [record] = caplog.records
    assert record.getMessage() == "template-error"
    assert f"{tmp_path / TEXT}:2: " in str(record.__dict__["fields"]["error"])


def test_renderer_for_config_uses_languages_rule_order_and_templates(tmp_path: Path) -> None:
    config = Config(
        language="en",
        templates=str(folder(tmp_path, subject_txt="{{ language }}: {{ count_text }}")),
        rules=[RuleConfig(name="ia", any=["IA"]), RuleConfig(name="dem", any=["démarchage"])],
        subscribers=[
            SubscriberConfig(name="analyste", console=True, language="fr"),
            SubscriberConfig(name="ops", console=True),
        ],
    )
    renderer = Renderer.for_config(config, load_templates(config.templates))
    both = digest(entry("1", rules=("dem",)), entry("2", rules=("ia",)))
    assert renderer.subject(both) == "fr: 2 nouveaux articles"
    ops = Digest("dg_o", "ops", both.created, both.items)
    assert renderer.subject(ops) == "en: 2 new articles"
    text = renderer.text(ops)
    assert text.index("ia (1)") < text.index("dem (1)")  # the configured rule order


def test_the_names_users_can_override() -> None:
    assert NAMES == ("subject.txt.j2", "digest.txt.j2", "digest.html.j2")


@pytest.mark.slow
def test_wordwrap_is_jinja2s_whatever_the_text_and_arguments() -> None:
    env = jinja2.Environment()
    rng = random.Random(19)
    words = ["a", "IA", "démarchage", "d’appel", "x" * 30, "x" * 80, "bien-être", "«", "…"]
    blanks = [" ", " ", " ", "  ", "\t", "\n", "\xa0"]
    for n in range(3000):
        text = "".join(rng.choice(words) + rng.choice(blanks) for _ in range(rng.randint(0, 30)))
        text = text if n % 3 else text.strip()  # a third as their ends come
        text = text if n % 4 else " ".join(text.split())  # a quarter already one clean line
        width = rng.choice([1, 5, 20, 72, 79])
        for flags in ((False, False), (True, False), (False, True), (True, True)):
            args = (text, width, flags[0], "\n   ", flags[1])
            assert wordwrap(env, *args) == do_wordwrap(env, *args), args
    assert wordwrap(env, "un deux trois", 5) == do_wordwrap(env, "un deux trois", 5)
