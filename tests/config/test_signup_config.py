"""``http.signup`` (DESIGN §3.8), ``http.trusted_proxies`` and a rule's ``description:`` in the
configuration: what loads, and each mistake refused at its place in words."""

from __future__ import annotations

from pathlib import Path

from monitor.config.load import load_config
from tests.support.config import problems

SMTP = "smtp:\n  host: 127.0.0.1\n  port: 2525\n  from: veille@example.com\n"


def write(tmp_path: Path, http: str, *, smtp: str = SMTP, rules: str = "") -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"""\
storage: sqlite:///{tmp_path}/monitor.db
sources:
  - name: a
    url: https://a.ma/feed
rules:
  - name: demarchage
    label: Démarchage téléphonique
    description: La fin du démarchage non consenti en France et ses effets au Maroc.
    any: [démarchage]
  - name: ia
    any: [IA]
{rules}subscribers:
  - name: s
    console: true
{smtp}http:
  listen: 127.0.0.1:0
{http}""")
    return path


def test_signup_offers_rules_with_their_description(tmp_path: Path) -> None:
    http = (
        "  base_url: https://veille.example.com\n"
        "  trusted_proxies: [127.0.0.1, 10.0.0.0/8, '::1']\n"
        "  signup:\n    rules: [demarchage, ia]\n"
    )
    config = load_config(write(tmp_path, http), env={})
    assert config.http is not None and config.http.signup is not None
    assert config.http.signup.rules == ["demarchage", "ia"]
    assert config.http.trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]
    described = {rule.name: rule.description for rule in config.rules}
    assert described == {
        "demarchage": "La fin du démarchage non consenti en France et ses effets au Maroc.",
        "ia": None,
    }


def test_without_signup_nothing_is_offered(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "  base_url: https://veille.example.com\n"), env={})
    assert config.http is not None
    assert config.http.signup is None and config.http.trusted_proxies == []


def test_signup_mistakes_are_named_at_their_place(tmp_path: Path) -> None:
    http = (
        "  trusted_proxies: [proxy.local]\n"
        "  signup:\n    rules: [demarchage, demarchge, demarchage]\n"
    )
    found = problems(write(tmp_path, http, smtp=""))
    text = "\n".join(found)
    assert "http.signup.rules: rule named twice: demarchage" in text
    assert "http.trusted_proxies[0]: 'proxy.local' is not an IP address or network" in text
    assert "http.signup.rules[1]: unknown rule 'demarchge' (did you mean demarchage?)" in text
    assert "http.signup: sign-up sends confirmation emails: it needs an 'smtp' section" in text
    assert "http.signup: sign-up links need the public address: set http.base_url" in text
    assert len(found) == 5, found


def test_a_description_is_one_line(tmp_path: Path) -> None:
    rules = '  - name: x\n    description: "deux\\nlignes"\n    any: [x]\n'
    text = "\n".join(problems(write(tmp_path, "", rules=rules)))
    assert "rules[2].description: a label is one line of text, not empty" in text
