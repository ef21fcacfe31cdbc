"""The sample digest of ``monitor notify --test`` (monitor.delivery.sample): articles written
from the subscriber's own rules, in its language, that those rules really match."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.config.load import parse_config
from monitor.config.model import Config
from monitor.delivery.sample import ITEMS, LINK, sample_digest

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CONFIG = """\
sources:
  - {name: leseco, url: "https://leseco.ma/feed/", tags: [maroc]}
  - {name: medias24, url: "https://medias24.com/feed/", tags: [eco]}
rules:
  - name: demarchage
    any: ["démarchage", "prospection téléphonique"]
    none: ["énergie"]
  - name: centres-appels
    any: ["centre* d'appel*", "call center"]
    all: [{term: "Maroc", case: sensitive}]
    tags: [eco]
  - name: chatgpt
    any: ["/chat-?gpt/i"]
  - name: ia
    any: ["IA"]
subscribers:
  - {name: analyste, console: true}
  - {name: ops, console: true, rules: [ia, chatgpt], language: en}
  - {name: arabe, console: true, rules: [ia], language: ar}
"""


def config(text: str = CONFIG) -> Config:
    return parse_config(text, "monitor.yaml")


def test_one_article_per_rule_written_from_its_terms_and_matched_by_it() -> None:
    cfg = config()
    analyste = next(s for s in cfg.subscribers if s.name == "analyste")
    digest = sample_digest(cfg, analyste, NOW)
    assert digest.subscriber == "analyste" and digest.created == NOW
    assert digest.id.startswith("dg_test_")
    assert len(digest.items) == ITEMS == 3  # the first three rules
    first, second, third = digest.items
    assert first.title == "Exemple : démarchage, ce qui change pour les entreprises"
    assert first.rules == ("demarchage",) and first.terms == {"demarchage": ("démarchage",)}
    assert first.hits and {hit.field for _, hit in first.hits} == {"title", "summary"}
    assert first.link == LINK.format(n=1) and first.source == "leseco"
    # an 'all' term goes with the 'any' one; a wildcard is written without its star; the
    # sample's source is one the rule's tags name
    assert second.rules == ("centres-appels",)
    assert second.terms == {"centres-appels": ("centre* d'appel*", "Maroc")}
    assert (
        second.summary == "Article d'exemple de l'envoi de test : il cite centre d'appel et Maroc."
    )
    assert second.source == "medias24"
    # a rule of regular expressions only: a plain sample headline, listed under the rule
    assert (third.title, third.rules, third.terms) == ("Exemple d'article", ("chatgpt",), {})
    dates = [item.published for item in digest.items]
    assert dates == [NOW - timedelta(minutes=7 * n) for n in (1, 2, 3)]  # newest first


def test_only_the_subscribers_rules_in_its_language() -> None:
    cfg = config()
    ops = next(s for s in cfg.subscribers if s.name == "ops")
    digest = sample_digest(cfg, ops, NOW)
    assert [item.rules for item in digest.items] == [("chatgpt",), ("ia",)]  # config order
    assert digest.items[1].title == "Sample: IA, what changes for businesses"
    arabe = next(s for s in cfg.subscribers if s.name == "arabe")
    [item] = sample_digest(cfg, arabe, NOW).items
    assert item.title.startswith("مثال: IA") and item.terms == {"ia": ("IA",)}


def test_each_sample_has_a_fresh_id() -> None:
    cfg = config()
    analyste = next(s for s in cfg.subscribers if s.name == "analyste")
    assert sample_digest(cfg, analyste, NOW).id != sample_digest(cfg, analyste, NOW).id


def test_a_rule_whose_terms_the_sample_cannot_meet_gets_a_plain_article() -> None:
    """A rule that also needs a language a short sample is not detected in, or whose 'none'
    term the sample would carry: the plain headline, never an article it does not match."""
    cfg = config(
        "rules:\n"
        "  - {name: energie, any: [énergie], all: [démarchage], none: [démarchage]}\n"
        "subscribers:\n  - {name: a, console: true}\n"
    )
    [item] = sample_digest(cfg, cfg.subscribers[0], NOW).items
    assert (item.title, item.rules, item.source) == ("Exemple d'article", ("energie",), "example")


def test_a_configuration_without_rules_still_has_a_sample() -> None:
    cfg = config("subscribers:\n  - {name: a, console: true, language: en}\n")
    [item] = sample_digest(cfg, cfg.subscribers[0], NOW).items
    assert (item.title, item.rules) == ("Sample article", ())
