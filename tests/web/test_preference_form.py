"""What the preferences page shows and what a posted form changes (monitor.web.preference_form),
without a server: the values in force and where they come from, the topics offered, the
changes recorded (only what differs), and the values refused."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.config.model import Config
from monitor.delivery.subscribers import Effective, effective
from monitor.store.subscribers import Choice
from monitor.web.preference_form import FormError, changes, offered_rules, pause_until, shown
from tests.support.peers import FakeClock

RULES = [
    {"name": "demarchage", "any": ["démarchage"], "label": "Démarchage", "description": "Appels"},
    {"name": "centres", "any": ["call center"]},
    {"name": "ia", "any": ["IA"], "label": "IA"},
    {"name": "hidden", "any": ["secret"]},
]
FORM = {
    "schedule": "immediate",
    "at": "08:00",
    "weekday": "mon",
    "language": "fr",
    "max_items": "50",
}


def _config() -> Config:
    return Config.model_validate({
        "sources": [{"name": "a", "url": "https://a.ma/feed"}],
        "rules": RULES,
        "subscribers": [
            {"name": "analyste", "email": "a@example.ma", "rules": ["demarchage", "centres"]},
            {"name": "every", "email": "e@example.ma", "digest": "every 30m"},
        ],
        "http": {"listen": "127.0.0.1:0", "signup": {"rules": ["demarchage", "ia"]}},
    })  # fmt: skip


def _served(
    config: Config, name: str, choices: tuple[Choice, ...] = ()
) -> tuple[Effective, Effective]:
    served = next(e for e in effective(config, list(choices)) if e.subscriber.name == name)
    configured = Effective(next(s for s in config.subscribers if s.name == name))
    return served, configured


def test_the_topics_offered_are_signup_rules_and_the_configured_ones() -> None:
    config = _config()
    served, configured = _served(config, "analyste")
    assert offered_rules(config, configured) == ["demarchage", "centres", "ia"]
    assert offered_rules(config, None) == ["demarchage", "ia"]  # one who signed up
    _, every_configured = _served(config, "every")  # rules: none given, so all of them
    assert offered_rules(config, every_configured) == ["demarchage", "centres", "ia", "hidden"]
    page = shown(config, served, configured)
    assert [(t.name, t.label, t.description, t.chosen) for t in page.topics] == [
        ("demarchage", "Démarchage", "Appels", True),
        ("centres", "centres", "", True),
        ("ia", "IA", "", False),
    ]
    assert page.origins == dict.fromkeys(("rules", "digest", "language", "max_items"), "config")
    assert (page.kind, page.at, page.language, page.max_items) == ("immediate", "08:00", "fr", 50)


def test_an_unchanged_form_changes_nothing() -> None:
    config = _config()
    served, configured = _served(config, "analyste")
    assert changes(config, served, configured, FORM, ["demarchage", "centres"]) == {}
    every, every_configured = _served(config, "every")
    kept = {**FORM, "schedule": "every"}  # "every 30m" is kept as it is
    assert (
        changes(config, every, every_configured, kept, ["demarchage", "centres", "ia", "hidden"])
        == {}
    )


def test_only_what_differs_is_recorded() -> None:
    config = _config()
    served, configured = _served(config, "analyste")
    form = {**FORM, "schedule": "weekly", "weekday": "fri", "at": "07:30", "language": "en"}
    assert changes(config, served, configured, form, ["ia"]) == {
        "rules": ["ia"],
        "digest": "weekly fri 07:30",
        "language": "en",
    }
    daily = {**FORM, "schedule": "daily", "at": "18:05", "max_items": "7"}
    assert changes(config, served, configured, daily, ["centres", "demarchage"]) == {
        "digest": "daily 18:05",
        "max_items": 7,
    }


def test_a_choice_shows_as_its_own() -> None:
    config = _config()
    now = FakeClock().now
    choice = Choice("analyste", "a@example.ma", False, ("ia",), "daily 09:00", None, 10, now)
    served, configured = _served(config, "analyste", (choice,))
    page = shown(config, served, configured)
    assert page.origins == {
        "rules": "choice", "digest": "choice", "language": "config", "max_items": "choice",
    }  # fmt: skip
    assert (page.kind, page.at) == ("daily", "09:00")
    assert [t.name for t in page.topics if t.chosen] == ["ia"]
    # the same values again: nothing to record
    form = {**FORM, "schedule": "daily", "at": "09:00", "max_items": "10"}
    assert changes(config, served, configured, form, ["ia"]) == {}


@pytest.mark.parametrize(
    ("form", "rules", "problem"),
    [
        (FORM, ["nope"], "pref_bad_rules"),
        (FORM, ["hidden"], "pref_bad_rules"),  # a rule neither offered nor given
        (FORM, [], "pref_no_rules"),
        ({**FORM, "schedule": "hourly"}, ["ia"], "pref_bad_schedule"),
        ({**FORM, "schedule": "daily", "at": "24:00"}, ["ia"], "pref_bad_schedule"),
        ({**FORM, "schedule": "weekly", "weekday": "xyz"}, ["ia"], "pref_bad_schedule"),
        ({**FORM, "schedule": "every"}, ["ia"], "pref_bad_schedule"),  # not analyste's
        ({**FORM, "language": "de"}, ["ia"], "pref_bad_language"),
        ({**FORM, "max_items": "0"}, ["ia"], "pref_bad_max_items"),
        ({**FORM, "max_items": "1001"}, ["ia"], "pref_bad_max_items"),
        ({**FORM, "max_items": "ten"}, ["ia"], "pref_bad_max_items"),
    ],
)
def test_values_the_page_does_not_offer_are_refused(
    form: dict[str, str], rules: list[str], problem: str
) -> None:
    config = _config()
    served, configured = _served(config, "analyste")
    with pytest.raises(FormError) as refused:
        changes(config, served, configured, form, rules)
    assert str(refused.value) == problem


def test_a_pause_ends_at_the_start_of_a_local_day_after_today_within_a_year() -> None:
    zone = ZoneInfo("Africa/Casablanca")
    now = FakeClock().now.astimezone(zone)
    tomorrow = (now + timedelta(days=1)).date()
    until = pause_until(tomorrow.isoformat(), now)
    assert until == datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone)
    for refused in (
        "",
        "soon",
        now.date().isoformat(),
        (now + timedelta(days=400)).date().isoformat(),
    ):
        with pytest.raises(FormError):
            pause_until(refused, now)
