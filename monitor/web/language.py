"""The web app's language, French or English: ``?lang=`` (the switch on every page, then kept
in a cookie), else the cookie, else the browser's Accept-Language, else the configuration's
``language``; and the words of its pages."""

from __future__ import annotations

from typing import Literal

from aiohttp import web

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")
COOKIE = "monitor_lang"


def _accepted(header: str) -> Lang | None:
    best: tuple[float, Lang] | None = None
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        for lang in LANGS:
            if primary == lang and q > 0 and (best is None or q > best[0]):
                best = (q, lang)
    return None if best is None else best[1]


def _known(value: str | None) -> Lang | None:
    for lang in LANGS:
        if value == lang:
            return lang
    return None


def chosen(request: web.Request, default: str) -> tuple[Lang, bool]:
    """The language of the answer, and whether it was just switched (to keep in the cookie)."""
    asked = _known(request.query.get("lang"))
    if asked is not None:
        return asked, True
    kept = _known(request.cookies.get(COOKIE))
    if kept is not None:
        return kept, False
    return _accepted(request.headers.get("Accept-Language", "")) or _known(default) or "en", False


WORDS: dict[str, dict[Lang, str]] = {
    "app": {"fr": "Veille", "en": "Monitor"},
    "login": {"fr": "Connexion", "en": "Sign in"},
    "name": {"fr": "Nom", "en": "Name"},
    "password": {"fr": "Mot de passe", "en": "Password"},
    "sign_in": {"fr": "Se connecter", "en": "Sign in"},
    "logout": {"fr": "Se déconnecter", "en": "Sign out"},
    "wrong": {"fr": "Nom ou mot de passe incorrect.", "en": "Wrong name or password."},
    "throttled": {
        "fr": "Trop d'essais pour ce nom : réessayez dans une minute.",
        "en": "Too many attempts for this name: try again in a minute.",
    },
    "refused": {"fr": "Refusé", "en": "Refused"},
    "forbidden": {
        "fr": "Formulaire expiré ou invalide : rechargez la page.",
        "en": "This form expired or is not valid: reload the page.",
    },
    "overview": {"fr": "Vue d'ensemble", "en": "Overview"},
    "sources": {"fr": "Sources", "en": "Sources"},
    "kind": {"fr": "Type", "en": "Kind"},
    "pushed": {"fr": "poussée par un hub", "en": "pushed by a hub"},
    "state": {"fr": "État", "en": "State"},
    "last_poll": {"fr": "Dernière lecture", "en": "Last poll"},
    "next_due": {"fr": "Prochaine", "en": "Next due"},
    "last_error": {"fr": "Dernière erreur", "en": "Last error"},
    "filter": {"fr": "Filtrer", "en": "Filter"},
    "tag": {"fr": "Étiquette", "en": "Tag"},
    "any": {"fr": "tous", "en": "any"},
    "next_page": {"fr": "Page suivante", "en": "Next page"},
    "first_page": {"fr": "Première page", "en": "First page"},
    "none": {"fr": "Aucune source ne correspond.", "en": "No source matches."},
    "never": {"fr": "jamais", "en": "never"},
    "since": {"fr": "depuis", "en": "since"},
    "state_ok": {"fr": "ok", "en": "ok"},
    "state_new": {"fr": "nouvelle", "en": "new"},
    "state_failing": {"fr": "en échec", "en": "failing"},
    "state_silent": {"fr": "silencieuse", "en": "silent"},
    "state_gone": {"fr": "disparue", "en": "gone"},
    "broken": {"fr": "Sources en panne :", "en": "Broken sources:"},
    "dead_digests": {"fr": "Résumés abandonnés après échecs :", "en": "Digests dead-lettered:"},
    "retry_hint": {"fr": "les renvoyer :", "en": "send them again with"},
    "subscribers": {"fr": "Abonnés", "en": "Subscribers"},
    "schedule": {"fr": "Rythme", "en": "Schedule"},
    "next_digest": {"fr": "Prochain résumé", "en": "Next digest"},
    "each_match": {"fr": "à chaque article retenu", "en": "at each match"},
    "counts": {"fr": "Articles", "en": "Items"},
    "pending": {"fr": "en attente", "en": "pending"},
    "sent": {"fr": "envoyés", "en": "sent"},
    "dead": {"fr": "abandonnés", "en": "dead"},
    "sub_active": {"fr": "actif", "en": "active"},
    "sub_disabled": {"fr": "désactivé", "en": "disabled"},
    "sub_unsubscribed": {"fr": "désabonné", "en": "unsubscribed"},
    "per_day": {"fr": "Nouveaux, 14 jours", "en": "New, 14 days"},
    "items": {"fr": "Articles", "en": "Articles"},
    "try_rules": {"fr": "Essayer une règle", "en": "Try a rule"},
    "not_found": {"fr": "Page introuvable.", "en": "Page not found."},
    "source": {"fr": "Source", "en": "Source"},
    "removed": {"fr": "retirée de la configuration", "en": "removed from the configuration"},
    "polls": {"fr": "Dernières lectures", "en": "Last polls"},
    "no_polls": {"fr": "Aucune lecture enregistrée.", "en": "No poll recorded."},
    "poll_time": {"fr": "Heure", "en": "Time"},
    "poll_result": {"fr": "Résultat", "en": "Result"},
    "poll_duration": {"fr": "Durée (s)", "en": "Duration (s)"},
    "poll_new": {"fr": "Nouveaux", "en": "New"},
    "poll_error": {"fr": "Erreur", "en": "Error"},
    "result_ok": {"fr": "lu", "en": "read"},
    "result_not-modified": {"fr": "inchangé (304)", "en": "not modified (304)"},
    "result_unchanged": {"fr": "contenu identique", "en": "same content"},
    "result_error": {"fr": "échec", "en": "failed"},
    "notices": {"fr": "Alertes de santé", "en": "Health notices"},
    "no_notices": {"fr": "Aucune alerte de santé.", "en": "No health notice."},
    "source_items": {"fr": "Articles de la source", "en": "Its articles"},
    "no_items": {"fr": "Aucun article.", "en": "No article."},
    "seen": {"fr": "vu", "en": "seen"},
    "rules_matched": {"fr": "règles :", "en": "rules:"},
    "no_link": {"fr": "sans lien", "en": "no link"},
}


def words(lang: Lang) -> dict[str, str]:
    return {key: text[lang] for key, text in WORDS.items()}
