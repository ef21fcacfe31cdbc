"""The effective subscribers (issue 24): the configuration's with their own choices, then
those who signed up; where each value comes from."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.config.sections import SmtpConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.delivery.subscribers import effective, owner, with_choices
from monitor.store.subscribers import Choice

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
RULES = [RuleConfig(name="ia", any=["IA"]), RuleConfig(name="demarchage", any=["démarchage"])]
SMTP = SmtpConfig.model_validate({"host": "127.0.0.1", "from": "v@example.ma"})


def _config(smtp: bool = True) -> Config:
    return Config(
        rules=RULES,
        smtp=SMTP if smtp else None,
        subscribers=[
            SubscriberConfig.model_validate(
                {"name": "analyste", "email": "a@example.ma", "digest": "daily 08:00"}
            ),
            SubscriberConfig(name="ops", console=True),
        ],
    )


def _choice(name: str, address: str, signed_up: bool = False, **values: object) -> Choice:
    fields: dict[str, object] = {"rules": None, "digest": None, "language": None}
    fields |= {"max_items": None} | values
    return Choice(name, address, signed_up, changed_at=T0, **fields)  # type: ignore[arg-type]


def test_an_override_wins_value_by_value() -> None:
    choice = _choice("analyste", "a@example.ma", digest="weekly mon 08:00", rules=("ia",))
    analyste, ops = effective(_config(), [choice])
    assert str(analyste.subscriber.digest) == "weekly mon 08:00"
    assert analyste.subscriber.rules == ["ia"]
    assert analyste.subscriber.max_items == 50  # not chosen: the configuration's
    assert (analyste.origin("digest"), analyste.origin("max_items")) == ("choice", "config")
    assert ops.subscriber == _config().subscribers[1] and not ops.origins


def test_an_override_for_another_address_is_ignored() -> None:
    choice = _choice("analyste", "old@example.ma", digest="immediate")
    [analyste, _] = effective(_config(), [choice])
    assert str(analyste.subscriber.digest) == "daily 08:00"
    assert analyste.origin("digest") == "config"


def test_signed_up_subscribers_are_email_subscribers_with_their_own_names() -> None:
    choice = _choice(
        "signup:0a1b2c",
        "z@example.ma",
        True,
        rules=("ia", "gone"),
        digest="immediate",
        language="en",
    )
    *_, signed = effective(_config(), [choice])
    sub = signed.subscriber
    assert (sub.name, sub.email, sub.channel, sub.language) == (
        "signup:0a1b2c",
        "z@example.ma",
        "email",
        "en",
    )
    assert sub.rules == ["ia"]  # a rule the configuration no longer has is dropped
    assert signed.signed_up and signed.origin("digest") == "choice"
    merged = with_choices(_config(), [choice])
    assert [s.name for s in merged.subscribers] == ["analyste", "ops", "signup:0a1b2c"]
    assert merged.rules == _config().rules


def test_without_smtp_no_one_who_signed_up_is_served() -> None:
    choice = _choice("signup:0a1b2c", "z@example.ma", True, rules=("ia",), digest="immediate")
    assert [e.subscriber.name for e in effective(_config(smtp=False), [choice])] == [
        "analyste",
        "ops",
    ]


def test_a_stored_value_the_configuration_cannot_take_is_left_out() -> None:
    choice = _choice("analyste", "a@example.ma", digest="fortnightly", language="xx", max_items=0)
    [analyste, _] = effective(_config(), [choice])
    assert str(analyste.subscriber.digest) == "daily 08:00"
    assert analyste.subscriber.language is None
    assert analyste.subscriber.max_items == 1  # clamped to what the configuration allows
    assert analyste.origin("digest") == "config"


def test_the_owner_of_an_address_of_either_kind() -> None:
    choice = _choice("signup:0a1b2c", "z@xn--caf-dma.ma", True, rules=("ia",), digest="immediate")
    served = with_choices(_config(), [choice]).subscribers
    assert owner(served, "a@EXAMPLE.ma") == "analyste"
    assert owner(served, "z@Café.ma") == "signup:0a1b2c"
    assert owner(served, "A@example.ma") == "analyste"  # whatever the case
    assert owner(served, "Z@CAFÉ.ma") == "signup:0a1b2c"
    assert owner(served, "nobody@example.ma") is None


def test_a_signed_up_row_it_cannot_serve_is_left_out_and_the_others_served(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A row the store holds that SubscriberConfig refuses (written before the address check
    refused a no-break space) is logged and skipped: it never stops the daemon."""
    odd = _choice("signup:0dd", "a\xa0b@example.ma", True, rules=("ia",), digest="immediate")
    fine = _choice("signup:f1e", "z@example.ma", True, rules=("ia",), digest="immediate")
    names = [e.subscriber.name for e in effective(_config(), [odd, fine])]
    assert names == ["analyste", "ops", "signup:f1e"]
    [logged] = [r for r in caplog.records if r.getMessage() == "signed-up-refused"]
    assert logged.__dict__["fields"]["subscriber"] == "signup:0dd"
