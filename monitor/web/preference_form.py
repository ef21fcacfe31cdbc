"""What a subscriber's preferences page shows (its current values, and where each comes from:
the configuration or its own choice) and what a posted form asks to change (issue 24, DESIGN
§3.8). Pure functions: the routes (monitor.web.preferences) read the store and write it.

A form is refused whole, in words, when one of its values is not one the page offers (a rule
outside ``signup.rules`` and those the configuration gave the subscriber, an unknown schedule
or language, a number out of range): nothing changes. Only the values that differ from those in
force are recorded, so saving the form unchanged does not turn the configuration's values into
the subscriber's own (which would then hide a later change of the configuration).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from monitor.config.model import Config
from monitor.config.schedule import parse_schedule
from monitor.delivery.subscribers import Effective
from monitor.digest.i18n import LANGUAGES as DIGEST_LANGUAGES

LANGUAGES: tuple[str, ...] = DIGEST_LANGUAGES  # (str: what a form posts is compared to them)
LONGEST_PAUSE = timedelta(days=366)


class FormError(ValueError):
    """A posted value the page does not offer; its message is a key of the page's words."""


@dataclass(frozen=True, slots=True)
class Topic:
    """A rule a subscriber may choose (the preferences page, the sign-up page)."""

    name: str
    label: str
    description: str
    chosen: bool = False


@dataclass(frozen=True, slots=True)
class Shown:
    """The page's values for one subscriber."""

    kind: str  # immediate | daily | weekly | every (a configured "every 30m": kept unless changed)
    at: str  # HH:MM
    weekday: str
    schedule: str  # as the configuration writes it
    topics: list[Topic]
    language: str
    max_items: int
    origins: Mapping[str, str]  # CHOSEN key -> "config" | "choice"


def offered_rules(config: Config, configured: Effective | None) -> list[str]:
    """The rules the page offers, in the configuration's order: ``signup.rules`` and those
    the configuration gave the subscriber (all of them when it gave ``rules:`` none)."""
    signup = config.http.signup if config.http is not None else None
    allowed = set(signup.rules if signup is not None else ())
    if configured is not None:
        given = configured.subscriber.rules
        allowed |= {r.name for r in config.rules} if given is None else set(given)
    return [rule.name for rule in config.rules if rule.name in allowed]


def _chosen_rules(config: Config, served: Effective) -> set[str]:
    rules = served.subscriber.rules
    return {r.name for r in config.rules} if rules is None else set(rules)


def shown(config: Config, served: Effective, configured: Effective | None) -> Shown:
    """What the page shows of ``served`` (the subscriber in force); ``configured``: the same
    subscriber as the configuration alone gives it (None for one who signed up)."""
    sub = served.subscriber
    schedule = sub.digest
    clocked = schedule.kind in ("daily", "weekly")  # (else a time to offer, not one in force)
    chosen = _chosen_rules(config, served)
    labels = {rule.name: rule for rule in config.rules}
    topics = [
        Topic(name, labels[name].label or name, labels[name].description or "", name in chosen)
        for name in offered_rules(config, configured)
    ]
    return Shown(
        kind=schedule.kind,
        at=f"{schedule.hour:02d}:{schedule.minute:02d}" if clocked else "08:00",
        weekday=schedule.weekday or "mon",
        schedule=str(schedule),
        topics=topics,
        language=sub.language or config.language,
        max_items=sub.max_items,
        origins={key: served.origin(key) for key in ("rules", "digest", "language", "max_items")},
    )


def _text(form: Mapping[str, str], name: str) -> str:
    return form.get(name, "").strip()


_SCHEDULES: dict[str, Callable[[str, str], str]] = {
    "immediate": lambda at, day: "immediate",
    "daily": lambda at, day: f"daily {at}",
    "weekly": lambda at, day: f"weekly {day} {at}",
}


def form_schedule(kind: str, at: str, day: str) -> str:
    """The schedule a form's choices write (a kind of :data:`_SCHEDULES`, a time, a day), as
    the configuration writes it; ValueError if they make none (the sign-up page's too)."""
    build = _SCHEDULES.get(kind)
    if build is None:
        raise ValueError(f"not a schedule a form offers: {kind!r}")
    return str(parse_schedule(build(at, day)))


def _schedule(form: Mapping[str, str]) -> str:
    try:
        return form_schedule(_text(form, "schedule"), _text(form, "at"), _text(form, "weekday"))
    except ValueError:
        raise FormError("pref_bad_schedule") from None


def _max_items(form: Mapping[str, str]) -> int:
    try:
        value = int(_text(form, "max_items"))
    except ValueError:
        raise FormError("pref_bad_max_items") from None
    if not 1 <= value <= 1000:
        raise FormError("pref_bad_max_items")
    return value


def changes(
    config: Config,
    served: Effective,
    configured: Effective | None,
    form: Mapping[str, str],
    rules: list[str],
) -> dict[str, object]:
    """What the posted ``form`` (and its checked ``rules``) changes of what is in force, as
    SubscriberBook.choose takes it; FormError when a value is not one the page offers."""
    offered = offered_rules(config, configured)
    if any(rule not in offered for rule in rules):
        raise FormError("pref_bad_rules")
    if not rules:
        raise FormError("pref_no_rules")
    language = _text(form, "language")
    if language not in LANGUAGES:
        raise FormError("pref_bad_language")
    now_shown = shown(config, served, configured)
    kept = now_shown.kind == "every" and _text(form, "schedule") == "every"  # (not offered anew)
    wanted: dict[str, object] = {
        "rules": [rule for rule in offered if rule in rules],
        "digest": now_shown.schedule if kept else _schedule(form),
        "language": language,
        "max_items": _max_items(form),
    }
    current: dict[str, object] = {
        "rules": [rule for rule in offered if rule in _chosen_rules(config, served)],
        "digest": now_shown.schedule,
        "language": now_shown.language,
        "max_items": now_shown.max_items,
    }
    if served.origin("rules") == "config" and set(rules) == _chosen_rules(config, served):
        del wanted["rules"]  # (the configuration's rules, offered or not, stay as they are)
    return {key: value for key, value in wanted.items() if current.get(key) != value}


def pause_until(value: str, zone_now: datetime) -> datetime:
    """The end of a pause asked as a date (``YYYY-MM-DD``): that day's start, in the zone of
    ``zone_now`` (the configuration's); FormError unless it is after today and within a year."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise FormError("pref_bad_date") from None
    until = datetime.combine(day, time(0, 0), zone_now.tzinfo)
    if until <= zone_now or until - zone_now > LONGEST_PAUSE:
        raise FormError("pref_bad_date")
    return until
