"""A rule's ``label:`` is what digests call it: subject, section headings, each item's rules;
the name stays what the store, logs and webhooks key on (issue 22)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.core.errors import ConfigError
from monitor.digest.render import Renderer
from tests.support.digest import CASABLANCA, digest, item, parse

LABELS = {"demarchage": "Démarchage téléphonique", "ia": "IA & centres d'appels"}


def test_labels_replace_names_in_subject_headings_and_item_lines() -> None:
    renderer = Renderer(CASABLANCA, labels=LABELS, rule_order=("demarchage", "ia"))
    shown = digest(
        item(rules=("demarchage", "ia")),
        item(key="2", title="L'IA au centre d'appels", rules=("ia",), terms={"ia": ("IA",)}),
    )
    subject, text, html = renderer.subject(shown), renderer.text(shown), renderer.html(shown)
    assert subject.endswith("— Démarchage téléphonique, IA & centres d'appels")
    assert "Démarchage téléphonique (1)" in text and "IA & centres d'appels (1)" in text
    assert "aussi : IA & centres d'appels" in text  # the other rule of the first item
    assert "demarchage" not in subject and "demarchage" not in text
    headings = [t for t in parse(html).text if "Démarchage téléphonique" in t]
    assert headings, "the HTML heading shows the label"
    assert "IA &amp; centres d&#39;appels" in html or "IA &amp; centres d'appels" in html


def test_a_rule_without_label_is_shown_by_its_name() -> None:
    renderer = Renderer(CASABLANCA, labels={"ia": "Intelligence artificielle"})
    shown = digest(item())
    assert renderer.subject(shown).endswith("— demarchage")


def _config(tmp_path: Path, label: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "sources:\n  - {name: leseco, url: 'https://leseco.ma/feed/'}\n"
        f"rules:\n  - name: demarchage\n    label: {label}\n    any: [démarchage]\n"
        "subscribers:\n  - {name: terminal, console: true}\n",
        encoding="utf-8",
    )
    return path


def test_the_configuration_gives_the_renderer_its_labels(tmp_path: Path) -> None:
    config = load_config(str(_config(tmp_path, '"Démarchage téléphonique"')))
    assert config.rules[0].label == "Démarchage téléphonique"
    subject = Renderer.for_config(config).subject(digest(item()))
    assert subject.endswith("— Démarchage téléphonique")


@pytest.mark.parametrize(
    ("label", "said"),
    [('""', "one line of text"), ('"two\\nlines"', "one line of text")],
)
def test_a_label_is_one_line_of_text(tmp_path: Path, label: str, said: str) -> None:
    path = _config(tmp_path, label)
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    problem = caught.value.problems[0]
    assert problem.startswith(f"{path}:5:12:") and "rules[0].label" in problem
    assert said in problem.lower()
