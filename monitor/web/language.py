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
    "retry": {"fr": "Les renvoyer maintenant", "en": "Send them again now"},
    "retried_none": {
        "fr": "Aucun résumé abandonné à renvoyer.",
        "en": "No dead-lettered digest to send again.",
    },
    "retried_one": {
        "fr": "1 résumé remis en file : le démon l'envoie à son prochain passage.",
        "en": "1 digest re-queued: the daemon sends it at its next tick.",
    },
    "retried_many": {
        "fr": "{n} résumés remis en file : le démon les envoie à son prochain passage.",
        "en": "{n} digests re-queued: the daemon sends them at its next tick.",
    },
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
    # /rules/try
    "try_intro": {
        "fr": "Collez une ou plusieurs règles dans la syntaxe YAML de la configuration : la "
        "liste elle-même (des « - name: … ») ou une section « rules: » qui la contient. Elles "
        "sont essayées sur les articles gardés, à la place des règles en vigueur du même nom ; "
        "rien n'est écrit, ni dans la configuration ni ailleurs.",
        "en": "Paste one or more rules in the configuration's YAML syntax: the list itself "
        "(“- name: …” entries) or a “rules:” section holding it. They are tried over the "
        "articles kept, in place of the rules in force of the same name; nothing is written, "
        "to the configuration or anywhere else.",
    },
    "rules_text": {"fr": "Règles (YAML)", "en": "Rules (YAML)"},
    "start_from": {"fr": "Partir d'une règle en vigueur", "en": "Start from a rule in force"},
    "load_rule": {"fr": "Charger", "en": "Load"},
    "window": {"fr": "Période", "en": "Window"},
    "window_1d": {"fr": "dernier jour", "en": "last day"},
    "window_2d": {"fr": "2 derniers jours", "en": "last 2 days"},
    "window_7d": {"fr": "7 derniers jours", "en": "last 7 days"},
    "window_14d": {"fr": "14 derniers jours", "en": "last 14 days"},
    "window_30d": {"fr": "30 derniers jours", "en": "last 30 days"},
    "try": {"fr": "Essayer", "en": "Try"},
    "try_problems": {
        "fr": "Ces règles ne peuvent pas être essayées (ligne:colonne dans le texte) :",
        "en": "These rules cannot be tried (line:column in the text):",
    },
    "try_scanned": {"fr": "Articles essayés :", "en": "Articles tried:"},
    "try_titles_only": {
        "fr": "dont, au-delà de la durée de conservation du texte (retention.text : {d}), "
        "le titre seul :",
        "en": "of which, past the time their text is kept (retention.text: {d}), the title alone:",
    },
    "try_retention": {
        "fr": "Le texte des articles est gardé {d} (retention.text) ; au-delà, seul leur titre "
        "est essayé.",
        "en": "The text of articles is kept {d} (retention.text); past that, only their title "
        "is tried.",
    },
    "try_stopped": {
        "fr": "La période compte plus d'articles : seuls les plus récents ont été essayés.",
        "en": "The window holds more articles: only the newest were tried.",
    },
    "try_out_of_time": {
        "fr": "L'essai a pris les {s} secondes qui lui sont accordées : seuls les articles les "
        "plus récents ont été essayés.",
        "en": "The trial took the {s} seconds it is given: only the newest articles were tried.",
    },
    "try_busy": {
        "fr": "Un autre essai est en cours sur ce serveur : réessayez dans un moment, quand il "
        "sera fini.",
        "en": "Another trial is running on this server: try again in a moment, once it is done.",
    },
    "in_force": {"fr": "en vigueur : comparée", "en": "in force: compared"},
    "new_rule": {"fr": "nouvelle règle", "en": "new rule"},
    "list_matched": {"fr": "Articles retenus", "en": "Matching articles"},
    "list_added": {
        "fr": "Ajoutés par rapport à la règle en vigueur",
        "en": "Added compared with the rule in force",
    },
    "list_removed": {
        "fr": "Retirés : la règle en vigueur les retenait",
        "en": "Removed: the rule in force matched them",
    },
    "more_not_shown": {"fr": "de plus, non affichés", "en": "more, not shown"},
    "no_item": {"fr": "Aucun.", "en": "None."},
    "title_only": {"fr": "titre seul", "en": "title only"},
    "field_title": {"fr": "titre", "en": "title"},
    "field_summary": {"fr": "résumé", "en": "summary"},
    "field_content": {"fr": "texte", "en": "text"},
    "term": {"fr": "terme", "en": "term"},
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
    # articles and search (/items)
    "search": {"fr": "Rechercher", "en": "Search"},
    "search_button": {"fr": "Rechercher", "en": "Search"},
    "rule": {"fr": "Règle", "en": "Rule"},
    "since_date": {"fr": "Depuis", "en": "Since"},
    "until_date": {"fr": "Jusqu'au", "en": "Until"},
    "alerted_only": {"fr": "alertes seulement", "en": "alerts only"},
    "search_help": {
        "fr": 'Comme dans les règles : tous les mots requis, "…" une expression, -mot exclu, '
        "mot* un début de mot ; accents, majuscules, élisions et pluriels ne comptent pas. "
        "Dates : 2026-12-01 ou 7d.",
        "en": 'As in rules: every word required, "…" a phrase, -word excluded, word* a '
        "prefix; accents, case, elisions and plurals do not count. Dates: 2026-12-01 or 7d.",
    },
    "search_covers": {
        "fr": "La recherche couvre le titre de chaque article tant que la base le garde, et son "
        "texte pendant {} (retention.text), jusqu'à 10 000 caractères ; un mot de plus de 200 "
        "lettres n'est pas indexé.",
        "en": "Search covers each article's title for as long as the store keeps it, and its "
        "text for {} (retention.text), up to 10,000 characters; a word of more than 200 "
        "letters is not indexed.",
    },
    "feed_of_rule": {"fr": "Flux Atom de cette règle :", "en": "Atom feed of this rule:"},
    "bad_search": {"fr": "Recherche impossible :", "en": "Cannot search:"},
    "rules_heading": {"fr": "Règles", "en": "Rules"},
    "went_to": {"fr": "Envoyé à", "en": "Sent to"},
    "no_article": {"fr": "Aucun article ne correspond.", "en": "No article matches."},
    # a subscriber's preferences page, /preferences/TOKEN (monitor.web.preferences)
    "pref_title": {"fr": "Vos préférences", "en": "Your preferences"},
    "pref_for": {"fr": "Résumés envoyés à", "en": "Digests sent to"},
    "pref_origin_config": {"fr": "par défaut", "en": "default"},
    "pref_origin_choice": {"fr": "votre choix", "en": "your choice"},
    "pref_immediate": {"fr": "à chaque nouvel article", "en": "at each new article"},
    "pref_daily": {"fr": "une fois par jour", "en": "once a day"},
    "pref_weekly": {"fr": "une fois par semaine", "en": "once a week"},
    "pref_at": {"fr": "à l'heure", "en": "at"},
    "pref_weekday": {"fr": "le jour (chaque semaine)", "en": "on (weekly)"},
    "pref_day_mon": {"fr": "lundi", "en": "Monday"},
    "pref_day_tue": {"fr": "mardi", "en": "Tuesday"},
    "pref_day_wed": {"fr": "mercredi", "en": "Wednesday"},
    "pref_day_thu": {"fr": "jeudi", "en": "Thursday"},
    "pref_day_fri": {"fr": "vendredi", "en": "Friday"},
    "pref_day_sat": {"fr": "samedi", "en": "Saturday"},
    "pref_day_sun": {"fr": "dimanche", "en": "Sunday"},
    "pref_topics": {"fr": "Sujets", "en": "Topics"},
    "pref_language": {"fr": "Langue des résumés", "en": "Language of the digests"},
    "pref_lang_fr": {"fr": "français", "en": "French"},
    "pref_lang_en": {"fr": "anglais", "en": "English"},
    "pref_lang_ar": {"fr": "arabe", "en": "Arabic"},
    "pref_max_items": {"fr": "Articles par résumé, au plus", "en": "Articles per digest, at most"},
    "pref_save": {"fr": "Enregistrer", "en": "Save"},
    "pref_pause": {"fr": "Pause", "en": "Pause"},
    "pref_until": {"fr": "Suspendre jusqu'au", "en": "Pause until"},
    "pref_pause_button": {"fr": "Suspendre", "en": "Pause"},
    "pref_pause_help": {
        "fr": "Rien ne vous est envoyé pendant la pause ; les articles retenus entre-temps vous "
        "attendent et arrivent dans le premier résumé après elle.",
        "en": "Nothing is sent to you during the pause; the articles found meanwhile wait for "
        "you and come in the first digest after it.",
    },
    "pref_paused_until": {"fr": "En pause jusqu'au", "en": "Paused until"},
    "pref_resume": {"fr": "Reprendre maintenant", "en": "Resume now"},
    "pref_leave": {"fr": "Se désabonner", "en": "Unsubscribe"},
    "pref_leave_help": {
        "fr": "Vous ne recevrez plus aucun résumé ; ceux en attente ne seront pas envoyés.",
        "en": "You will receive no more digests; those waiting will not be sent.",
    },
    "pref_unsubscribe": {"fr": "Me désabonner", "en": "Unsubscribe me"},
    "pref_is_unsubscribed": {
        "fr": "Vous êtes désabonné : plus aucun résumé ne vous est envoyé.",
        "en": "You are unsubscribed: no more digests are sent to you.",
    },
    "pref_saved": {
        "fr": "Vos préférences sont enregistrées : elles valent dès le prochain résumé.",
        "en": "Your preferences are saved: they apply from the next digest.",
    },
    "pref_unchanged": {"fr": "Rien n'a changé.", "en": "Nothing changed."},
    "pref_paused": {
        "fr": "Pause enregistrée : les articles retenus vous attendent jusqu'à la reprise.",
        "en": "Pause recorded: the articles found wait for you until it ends.",
    },
    "pref_resumed": {
        "fr": "Reprise : ce qui vous attend part avec le prochain résumé.",
        "en": "Resumed: what waits for you goes with the next digest.",
    },
    "pref_unsubscribed": {
        "fr": "Vous êtes désabonné : vous ne recevrez plus ces résumés.",
        "en": "You are unsubscribed: you will not receive these digests again.",
    },
    "pref_invalid": {
        "fr": "Ce lien n'est pas valable : il ne change rien.",
        "en": "This link is not valid: it changes nothing.",
    },
    "pref_expired": {
        "fr": "Ce lien a expiré : suivez celui de votre dernier résumé.",
        "en": "This link expired: follow the one in your latest digest.",
    },
    "pref_other_address": {
        "fr": "Ce lien a été envoyé à une autre adresse : il ne change rien.",
        "en": "This link was sent to another address: it changes nothing.",
    },
    "pref_unknown": {
        "fr": "Cet abonnement n'existe plus.",
        "en": "This subscription no longer exists.",
    },
    "pref_bad_action": {
        "fr": "Action inconnue : rien n'a changé.",
        "en": "Unknown action: nothing changed.",
    },
    "pref_bad_schedule": {
        "fr": "Rythme invalide (une heure HH:MM, un jour de la semaine) : rien n'a changé.",
        "en": "Invalid schedule (a time HH:MM, a day of the week): nothing changed.",
    },
    "pref_bad_rules": {
        "fr": "Ce sujet n'est pas proposé : rien n'a changé.",
        "en": "This topic is not offered: nothing changed.",
    },
    "pref_no_rules": {
        "fr": "Choisissez au moins un sujet (ou désabonnez-vous) : rien n'a changé.",
        "en": "Choose at least one topic (or unsubscribe): nothing changed.",
    },
    "pref_bad_language": {
        "fr": "Langue inconnue : rien n'a changé.",
        "en": "Unknown language: nothing changed.",
    },
    "pref_bad_max_items": {
        "fr": "Le nombre d'articles va de 1 à 1000 : rien n'a changé.",
        "en": "The number of articles is from 1 to 1000: nothing changed.",
    },
    "pref_bad_date": {
        "fr": "Date de fin invalide (après aujourd'hui, dans l'année) : rien n'a changé.",
        "en": "Invalid end date (after today, within a year): nothing changed.",
    },
    # /subscribe (monitor.web.signup)
    "subscribe": {"fr": "S'abonner", "en": "Subscribe"},
    "subscribe_intro": {
        "fr": "Recevez par courriel les articles des sujets que vous choisissez.",
        "en": "Receive by email the articles on the topics you choose.",
    },
    "address": {"fr": "Adresse électronique", "en": "Email address"},
    "topics": {"fr": "Sujets", "en": "Topics"},
    "how_often": {"fr": "Fréquence", "en": "How often"},
    "sched_immediate": {"fr": "À chaque article", "en": "As each article arrives"},
    "sched_daily": {"fr": "Chaque jour", "en": "Every day"},
    "sched_weekly": {"fr": "Chaque semaine", "en": "Every week"},
    "at_time": {"fr": "À (heure)", "en": "At (time)"},
    "weekday": {"fr": "Jour de la semaine", "en": "Day of the week"},
    "day_mon": {"fr": "lundi", "en": "Monday"},
    "day_tue": {"fr": "mardi", "en": "Tuesday"},
    "day_wed": {"fr": "mercredi", "en": "Wednesday"},
    "day_thu": {"fr": "jeudi", "en": "Thursday"},
    "day_fri": {"fr": "vendredi", "en": "Friday"},
    "day_sat": {"fr": "samedi", "en": "Saturday"},
    "day_sun": {"fr": "dimanche", "en": "Sunday"},
    "mail_language": {"fr": "Langue des courriels", "en": "Language of the emails"},
    "leave_empty": {"fr": "Laissez ce champ vide", "en": "Leave this field empty"},
    "send_link": {"fr": "Recevoir le lien de confirmation", "en": "Send me the confirmation link"},
    "check_inbox": {"fr": "Vérifiez votre boîte", "en": "Check your inbox"},
    "signup_sent": {
        "fr": "Si cette adresse peut recevoir nos résumés, un message vient d'y partir : suivez "
        "son lien dans les 48 heures. Rien d'autre n'y sera envoyé d'ici là.",
        "en": "If this address can receive our digests, a message is on its way to it: follow "
        "its link within 48 hours. Nothing else is sent to it until then.",
    },
    "bad_address": {
        "fr": "Cette adresse électronique n'est pas valable.",
        "en": "This email address is not valid.",
    },
    "bad_topics": {
        "fr": "Choisissez un ou plusieurs sujets de la liste.",
        "en": "Choose one or more topics from the list.",
    },
    "bad_schedule": {
        "fr": "Choisissez une fréquence (et son heure).",
        "en": "Choose how often (and at what time).",
    },
    "bad_language": {"fr": "Choisissez une langue de la liste.", "en": "Choose a listed language."},
    "too_many": {
        "fr": "Trop de demandes depuis votre adresse : réessayez dans une minute.",
        "en": "Too many requests from your address: try again in a minute.",
    },
    "confirm_subscription": {"fr": "Confirmer l'abonnement", "en": "Confirm the subscription"},
    "confirm_what": {"fr": "Abonner cette adresse :", "en": "Subscribe this address:"},
    "confirm": {"fr": "Confirmer", "en": "Confirm"},
    "subscribed": {"fr": "Abonnement confirmé", "en": "Subscription confirmed"},
    "subscribed_text": {
        "fr": "C'est fait : les résumés arriveront à cette adresse.",
        "en": "Done: the digests will come to this address.",
    },
    "link_invalid": {"fr": "Ce lien n'est pas valable.", "en": "This link is not valid."},
    "link_expired": {
        "fr": "Ce lien a expiré : abonnez-vous à nouveau.",
        "en": "This link has expired: subscribe again.",
    },
}


def words(lang: Lang) -> dict[str, str]:
    return {key: text[lang] for key, text in WORDS.items()}
