"""The words of a digest and of notices in French, English and Arabic (``language: fr|en|ar``).

Strings are fields of a frozen dataclass rather than dict keys so that a template writing
``t.sourec`` fails at load time (StrictUndefined) and a key can never shadow a dict method.
Counts go through :func:`count_text` / :func:`waiting_text`, which know each language's plurals:
French and English have three forms (none, one, many), Arabic six (CLDR's zero, one, two, few,
many, other: ``مقالان``, ``3 مقالات``, ``11 مقالًا``, ``100 مقال``). Arabic is written right to
left (:func:`direction`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, get_args

from monitor.config.subscribers import Language
from monitor.core.models import WAITING_COUNTED

LANGUAGES: tuple[Language, ...] = get_args(Language)
Forms = tuple[str, ...]  # plural forms: (none, one, many) or Arabic's six (see plural)


@dataclass(frozen=True, slots=True)
class Strings:
    prefix: str  # subject prefix
    no_title: str
    no_link: str
    unknown_date: str
    date_format: str  # strftime, local time of the renderer's zone
    terms: str  # label before the matched terms
    rules: str  # label before the rules an item matched (story grouping)
    also_rules: str  # label before the other rules of an item listed under its first rule
    also_in: str  # label before the other outlets of one story
    stories: str  # heading of the story-grouped list
    local_times: str  # "{zone}" -> footer note on the time zone of every date shown
    footer: str  # "{subscriber}", "{created}" (the digest id goes in a header, not the text)
    preferences: str  # the words of the link to the subscriber's preferences page
    # plural forms (see plural); "{n}" is the count
    new_articles: Forms
    more_waiting: Forms
    waiting_short: str  # "{n}", subject suffix
    # past WAITING_COUNTED (the outbox counts no further): "{n}" is WAITING_COUNTED, its
    # thousands apart by ``thousands``
    over_waiting: str
    over_waiting_short: str
    thousands: str


FR = Strings(
    prefix="[veille]",
    no_title="(sans titre)",
    no_link="(pas de lien)",
    unknown_date="date inconnue",
    date_format="%d/%m/%Y %H:%M",
    terms="termes :",
    rules="règles :",
    also_rules="aussi :",
    also_in="aussi dans :",
    stories="Articles",
    local_times="Heures locales ({zone}).",
    footer="Envoyé à {subscriber} le {created}.",
    preferences="Rythme, sujets, langue, pause ou désabonnement : vos préférences",
    new_articles=("aucun nouvel article", "1 nouvel article", "{n} nouveaux articles"),
    more_waiting=("", "1 autre article en attente", "{n} autres articles en attente"),
    waiting_short="+{n} en attente",
    over_waiting="plus de {n} autres articles en attente",
    over_waiting_short="plus de {n} en attente",
    thousands="\u202f",  # (narrow no-break space: 10 000)
)

EN = Strings(
    prefix="[monitor]",
    no_title="(untitled)",
    no_link="(no link)",
    unknown_date="date unknown",
    date_format="%Y-%m-%d %H:%M",  # ISO order: neither day-first nor month-first readers misread
    terms="terms:",
    rules="rules:",
    also_rules="also:",
    also_in="also in:",
    stories="Articles",
    local_times="Local times ({zone}).",
    footer="Sent to {subscriber} on {created}.",
    preferences="Schedule, topics, language, pause or unsubscribe: your preferences",
    new_articles=("no new articles", "1 new article", "{n} new articles"),
    more_waiting=("", "1 more article waiting", "{n} more articles waiting"),
    waiting_short="+{n} waiting",
    over_waiting="over {n} more articles waiting",
    over_waiting_short="over {n} waiting",
    thousands=",",
)

AR = Strings(
    prefix="[رصد]",
    no_title="(بدون عنوان)",
    no_link="(بدون رابط)",
    unknown_date="تاريخ غير معروف",
    date_format="%Y-%m-%d %H:%M",  # the digits Moroccan papers print
    terms="الكلمات:",
    rules="القواعد:",
    also_rules="أيضًا:",
    also_in="أيضًا في:",
    stories="المقالات",
    local_times="بالتوقيت المحلي ({zone}).",
    footer="أُرسل إلى {subscriber} في {created}.",
    preferences="الإيقاع والمواضيع واللغة والإيقاف المؤقت وإلغاء الاشتراك: تفضيلاتك",
    new_articles=(
        "لا مقالات جديدة",
        "مقال جديد واحد",
        "مقالان جديدان",
        "{n} مقالات جديدة",
        "{n} مقالًا جديدًا",
        "{n} مقال جديد",
    ),
    more_waiting=(
        "",
        "مقال آخر في الانتظار",
        "مقالان آخران في الانتظار",
        "{n} مقالات أخرى في الانتظار",
        "{n} مقالًا آخر في الانتظار",
        "{n} مقال آخر في الانتظار",
    ),
    waiting_short="+{n} في الانتظار",
    over_waiting="أكثر من {n} مقال آخر في الانتظار",
    over_waiting_short="أكثر من {n} في الانتظار",
    thousands="",  # (the digits as the other counts print them)
)

STRINGS: dict[str, Strings] = {"fr": FR, "en": EN, "ar": AR}
RIGHT_TO_LEFT = frozenset({"ar"})


def strings(language: str) -> Strings:
    """The strings of ``language``; French (the project's default) for anything else."""
    return STRINGS.get(language, FR)


def direction(language: str) -> Literal["ltr", "rtl"]:
    """How ``language`` is written: ``rtl`` for Arabic (HTML's ``dir``)."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def plural(forms: Forms, n: int) -> str:
    """The form for ``n``, with ``{n}`` filled in: among (none, one, many), or among Arabic's
    (zero, one, two, few: 3-10, many: 11-99, other: 100, 101, 102…), by ``n % 100`` past 100
    as CLDR says."""
    if len(forms) == 3:
        form = forms[0] if n <= 0 else forms[1] if n == 1 else forms[2]
    elif n <= 2:
        form = forms[max(n, 0)]
    else:
        rest = n % 100
        form = forms[3] if 3 <= rest <= 10 else forms[4] if rest >= 11 else forms[5]
    return form.format(n=n)


def count_text(language: str, n: int) -> str:
    """``3 nouveaux articles`` / ``3 new articles`` / ``3 مقالات جديدة``."""
    return plural(strings(language).new_articles, n)


def waiting_text(language: str, n: int) -> str:
    """``12 autres articles en attente`` / ``12 more articles waiting``; "" when none wait;
    ``plus de 10 000 …`` / ``over 10,000 …`` past WAITING_COUNTED (the outbox counts no
    further)."""
    words = strings(language)
    if n > WAITING_COUNTED:
        return words.over_waiting.format(n=_grouped(WAITING_COUNTED, words.thousands))
    return plural(words.more_waiting, n)


def waiting_short(language: str, n: int) -> str:
    """The subject's ``+12 en attente`` / ``+12 waiting``; "" when none wait."""
    words = strings(language)
    if n > WAITING_COUNTED:
        return words.over_waiting_short.format(n=_grouped(WAITING_COUNTED, words.thousands))
    return words.waiting_short.format(n=n) if n > 0 else ""


def _grouped(n: int, separator: str) -> str:
    return f"{n:,}".replace(",", separator)


@dataclass(frozen=True, slots=True)
class HealthStrings:
    """The words of a source health notice (monitor.poll.health): "{source}", "{duration}",
    "{error}" and "{rhythm}" are filled in."""

    failing: str
    failing_summary: str
    silent: str
    silent_summary: str
    recovered_failing: str  # after a failure
    recovered_silent: str  # after a silence
    recovered_summary: str
    minutes: Forms  # plural forms (see plural), "{n}"
    hours: Forms
    days: Forms


HEALTH: dict[str, HealthStrings] = {
    "fr": HealthStrings(
        failing="Source {source} en panne depuis {duration} : {error}",
        failing_summary=(
            "Dernière erreur : {error}. Les relevés continuent ; "
            "un autre avis suivra quand elle sera rétablie."
        ),
        silent="Source {source} muette depuis {duration}",
        silent_summary=(
            "Aucun nouvel article depuis {duration}, alors que d'habitude il s'écoule au plus "
            "{rhythm} entre deux. Un autre avis suivra quand elle publiera de nouveau."
        ),
        recovered_failing="Source {source} rétablie après {duration} de panne",
        recovered_silent="Source {source} publie de nouveau après {duration} de silence",
        recovered_summary="Les relevés de {source} réussissent de nouveau.",
        minutes=("{n} min", "{n} min", "{n} min"),
        hours=("{n} h", "{n} h", "{n} h"),
        days=("{n} jour", "{n} jour", "{n} jours"),
    ),
    "en": HealthStrings(
        failing="Source {source} failing for {duration}: {error}",
        failing_summary=(
            "Last error: {error}. Polling goes on; another notice will follow when it recovers."
        ),
        silent="Source {source} silent for {duration}",
        silent_summary=(
            "No new item for {duration}, while usually at most {rhythm} pass between two. "
            "Another notice will follow when it publishes again."
        ),
        recovered_failing="Source {source} recovered after {duration} of failures",
        recovered_silent="Source {source} publishing again after {duration} of silence",
        recovered_summary="Polls of {source} succeed again.",
        minutes=("{n} min", "{n} min", "{n} min"),
        hours=("{n} h", "{n} h", "{n} h"),
        days=("{n} days", "{n} day", "{n} days"),
    ),
    "ar": HealthStrings(
        failing="المصدر {source} معطل منذ {duration}: {error}",
        failing_summary=(
            "آخر خطأ: {error}. يستمر جلب المصدر، وسيصلك إشعار آخر عند عودته إلى العمل."
        ),
        silent="المصدر {source} لم ينشر منذ {duration}",
        silent_summary=(
            "لا مقالات جديدة منذ {duration}، بينما لا يتجاوز الفاصل بين مقالين عادةً {rhythm}. "
            "سيصلك إشعار آخر عندما ينشر من جديد."
        ),
        recovered_failing="عاد المصدر {source} إلى العمل بعد {duration} من التعطل",
        recovered_silent="عاد المصدر {source} إلى النشر بعد {duration} من الصمت",
        recovered_summary="نجح جلب {source} من جديد.",
        minutes=("{n} دقيقة", "دقيقة واحدة", "دقيقتين", "{n} دقائق", "{n} دقيقة", "{n} دقيقة"),
        hours=("{n} ساعة", "ساعة واحدة", "ساعتين", "{n} ساعات", "{n} ساعة", "{n} ساعة"),
        days=("{n} يوم", "يوم واحد", "يومين", "{n} أيام", "{n} يومًا", "{n} يوم"),
    ),
}


def health_strings(language: str) -> HealthStrings:
    return HEALTH.get(language, HEALTH["fr"])


def duration_text(language: str, duration: timedelta) -> str:
    """``45 min``, ``30 h``, ``3 jours`` / ``3 days`` / ``3 أيام``: whole units, rounded down."""
    words = health_strings(language)
    minutes = max(int(duration.total_seconds() // 60), 0)
    if minutes < 60:
        return plural(words.minutes, minutes)
    if minutes < 48 * 60:
        return plural(words.hours, minutes // 60)
    return plural(words.days, minutes // (24 * 60))


@dataclass(frozen=True, slots=True)
class TrialStrings:
    """The words of a test digest (``monitor notify --test``): sample articles, said to be
    such. "{term}" (a rule's terms) and "{command}" are filled in."""

    mark: str  # before the subject line
    notice: str  # the first line of the text and of the HTML
    title: str  # a sample headline carrying a rule's term
    summary: str  # its summary
    plain_title: str  # a sample headline when no term of a rule can be written out
    plain_summary: str
    joiner: str  # between the terms of a summary


TRIAL: dict[str, TrialStrings] = {
    "fr": TrialStrings(
        mark="[TEST]",
        notice=(
            "Envoi de test ({command}) : les articles ci-dessous sont des exemples, "
            "aucun n'a été publié."
        ),
        title="Exemple : {term}, ce qui change pour les entreprises",
        summary="Article d'exemple de l'envoi de test : il cite {term}.",
        plain_title="Exemple d'article",
        plain_summary="Article d'exemple de l'envoi de test.",
        joiner=" et ",
    ),
    "en": TrialStrings(
        mark="[TEST]",
        notice=(
            "Test send ({command}): the articles below are samples, none of them was published."
        ),
        title="Sample: {term}, what changes for businesses",
        summary="A sample article of the test send: it cites {term}.",
        plain_title="Sample article",
        plain_summary="A sample article of the test send.",
        joiner=" and ",
    ),
    "ar": TrialStrings(
        mark="[اختبار]",
        notice="إرسال تجريبي ({command}): المقالات أدناه أمثلة، ولم يُنشر أيٌّ منها.",
        title="مثال: {term}، ما الذي يتغير بالنسبة للشركات",
        summary="مقال تجريبي من الإرسال التجريبي: يذكر {term}.",
        plain_title="مقال تجريبي",
        plain_summary="مقال تجريبي من الإرسال التجريبي.",
        joiner=" و",
    ),
}


def trial_strings(language: str) -> TrialStrings:
    return TRIAL.get(language, TRIAL["fr"])
