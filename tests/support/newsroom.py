"""A realistic store of articles for the web app's end-to-end test and the search screenshot in
the docs: French, English and Arabic outlets, one failing, two rules (``centres-appels``,
``demarchage``) with their matches and what went to a subscriber, and 60 older briefs to page
through. Items are written by the poll path (monitor.store.polls), one poll each, oldest first:
their words are indexed as the daemon indexes them and their ids follow their age.

The matches are given, not computed: each names the terms its rule's ``any`` list found, as
the matcher reports them (the pages find them again to mark them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.core.models import Delivery, Item, Match, PollOutcome
from monitor.store import transaction
from monitor.store.polls import write_polls
from monitor.store.sources import SourceStore
from monitor.store.tables import sources
from tests.support.store import outcome
from tests.support.webapp import app_config

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # the FakeClock's now
SOURCES = [
    {"name": "medias24", "url": "https://medias24.com/feed/", "tags": ["maroc", "economie"]},
    {"name": "hespress-fr", "url": "https://fr.hespress.com/feed", "tags": ["maroc"]},
    {"name": "هسبريس", "url": "https://www.hespress.com/feed", "tags": ["maroc", "arabe"]},
    {"name": "morocco-world", "url": "https://www.moroccoworldnews.com/feed", "tags": ["anglais"]},
    {"name": "le360", "url": "https://fr.le360.ma/rss", "tags": ["maroc"]},
]
RULES = [
    {"name": "centres-appels", "label": "Centres d'appels",
     "any": ["centre d'appel", "call center", "مراكز الاتصال"]},
    {"name": "demarchage", "label": "Démarchage téléphonique",
     "any": ["démarchage", "التسويق الهاتفي"]},
]  # fmt: skip
SUBSCRIBER = "analystes"
FAILING = "medias24"
FAILING_ERROR = "HTTP 503 Service Unavailable from https://medias24.com/feed/ (after 3 attempts)"
BRIEFS = 60  # older items of le360: more than a page of 50
HOSTILE = "<img src=x onerror=alert(1)>"


@dataclass(frozen=True)
class Article:
    key: str
    source: str
    title: str
    summary: str
    hours_ago: int
    rules: dict[str, tuple[str, ...]]  # rule: the terms it found
    link: str = ""


ARTICLES = [
    Article("recrutement", "hespress-fr",
            "Les centres d’appels recrutent 2 000 conseillers à Casablanca",
            "Les salaires des centres d’appels augmentent au Maroc, selon la fédération "
            "du secteur.", 2, {"centres-appels": ("centre d'appel",)}),
    Article("pluies", "hespress-fr", "Météo : fortes pluies attendues sur le nord du Maroc",
            "Des averses orageuses sont prévues de jeudi à samedi.", 3, {}),
    Article("ai-calls", "morocco-world",
            "Morocco’s call centers bet on AI to keep their French clients",
            "Operators in Casablanca and Rabat are retraining agents as chatbots take the "
            "simplest requests.", 4, {"centres-appels": ("call center",)}),
    Article("loi", "medias24",
            "Démarchage téléphonique : la France interdit les appels non consentis",
            "Les centres d'appel marocains qui travaillent pour des clients français devront "
            "s’adapter avant l’été.", 5,
            {"demarchage": ("démarchage",), "centres-appels": ("centre d'appel",)}),
    Article("mourakiz", "هسبريس", "مراكز الاتصال بالمغرب تستعد لمنع التسويق الهاتفي في فرنسا",
            "يشغل القطاع (centres d'appels) أكثر من مئة ألف شخص في الدار البيضاء والرباط "
            "وفاس.", 6,
            {"demarchage": ("التسويق الهاتفي",), "centres-appels": ("مراكز الاتصال",)}),
    Article("salon", "morocco-world", "Rabat hosts Africa’s largest tech fair",
            "Startups from 40 countries meet investors this week.", 26, {}),
    Article("wazir", "هسبريس", "وزير الاقتصاد يزور الدار البيضاء",
            "لقاء مع رجال الأعمال حول الاستثمار.", 28, {}),
    Article("bourse", "medias24", "Bourse de Casablanca : le MASI termine la semaine en hausse",
            "Les valeurs bancaires tirent l’indice.", 30, {}),
    Article("offshoring", "le360", "Le Maroc mise sur l’offshoring pour créer 100 000 emplois",
            "Le plan vise la relation client et les services numériques.", 50, {}),
]  # fmt: skip
# feed text that must never run: shown as text on every page (the flow test adds it)
XSS = Article("xss", "morocco-world", HOSTILE, f"{HOSTILE} texte", 1, {}, "javascript:alert(1)")


def config() -> Config:
    return app_config(SOURCES, subscribers=[{"name": SUBSCRIBER, "console": True}], rules=RULES)


def titles(*keys: str) -> list[str]:
    """The titles of the articles of ``keys``, in that order."""
    by_key = {a.key: a.title for a in (*ARTICLES, XSS)}
    return [by_key[key] for key in keys]


def _poll(article: Article) -> PollOutcome:
    at = T0 - timedelta(hours=article.hours_ago)
    link = article.link or f"https://{article.source}.example/{article.key}"
    found = Item(article.source, article.key, link, article.title, article.summary, "", at)
    return replace(
        outcome(article.source, (found,), at=at),
        matches={article.key: tuple(Match(r, t) for r, t in article.rules.items())}
        if article.rules
        else {},
        deliveries=(Delivery(SUBSCRIBER, article.key, tuple(article.rules), article.rules),)
        if article.rules
        else (),
    )


async def fill(engine: AsyncEngine, config: Config, hostile: bool = False) -> None:
    """The store of this module's articles (and the hostile one with ``hostile``)."""
    await SourceStore(engine).sync(config, T0 - timedelta(days=30))
    briefs = tuple(
        Item("le360", f"breve-{n}", f"https://le360.example/breve-{n}",
             f"Brève économique numéro {n}", "Les chiffres du jour.", "", T0)
        for n in range(BRIEFS)
    )  # fmt: skip
    old = replace(outcome("le360", briefs, at=T0 - timedelta(days=12)), matches={}, deliveries=())
    async with transaction(engine) as conn:
        await write_polls(conn, [old], [])
    shown = [*ARTICLES, XSS] if hostile else ARTICLES
    for article in sorted(shown, key=lambda a: -a.hours_ago):
        async with transaction(engine) as conn:
            await write_polls(conn, [_poll(article)], [])
    async with transaction(engine) as conn:
        await conn.execute(
            update(sources)
            .where(sources.c.name == FAILING)
            .values(health="failing", health_since=T0 - timedelta(hours=19),
                    last_error=FAILING_ERROR)
        )  # fmt: skip
