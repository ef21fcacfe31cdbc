"""Who gets which matched item: each subscriber's rules intersected with the matches."""

from __future__ import annotations

import pytest

from monitor.config.subscribers import SubscriberConfig
from monitor.core.models import Delivery, Match
from monitor.delivery.routing import Router

DEMARCHAGE = Match("demarchage", ("démarchage",))
IA = Match("ia", ("IA", "intelligence artificielle"))
CENTRES = Match("centres-appels", ("call center",))


def subscriber(name: str, rules: list[str] | None) -> SubscriberConfig:
    return SubscriberConfig(name=name, console=True, rules=rules)


@pytest.mark.parametrize(
    ("rules", "matches", "expected"),
    [
        # no `rules:` means every rule
        (None, {"k1": (DEMARCHAGE, IA)}, [("k1", ("demarchage", "ia"))]),
        (["ia"], {"k1": (DEMARCHAGE, IA)}, [("k1", ("ia",))]),
        (["ia", "demarchage"], {"k1": (DEMARCHAGE, IA)}, [("k1", ("demarchage", "ia"))]),
        (["ia"], {"k1": (DEMARCHAGE,)}, []),
        ([], {"k1": (DEMARCHAGE, IA)}, []),  # an explicit empty list follows nothing
        (
            ["ia"],
            {"k1": (IA,), "k2": (CENTRES,), "k3": (IA, CENTRES)},
            [("k1", ("ia",)), ("k3", ("ia",))],
        ),
        (None, {}, []),
        (None, {"k1": ()}, []),
    ],
)
def test_route_one_subscriber(
    rules: list[str] | None,
    matches: dict[str, tuple[Match, ...]],
    expected: list[tuple[str, tuple[str, ...]]],
) -> None:
    deliveries = Router([subscriber("s", rules)]).route(matches)
    assert [(d.item_key, d.rules) for d in deliveries] == expected
    assert all(d.subscriber == "s" for d in deliveries)


def test_terms_are_limited_to_the_subscribers_rules() -> None:
    deliveries = Router([subscriber("s", ["ia"])]).route({"k1": (DEMARCHAGE, IA)})
    assert deliveries == [
        Delivery(
            subscriber="s",
            item_key="k1",
            rules=("ia",),
            terms={"ia": ("IA", "intelligence artificielle")},
        )
    ]


def test_one_delivery_per_subscriber_and_item() -> None:
    router = Router(
        [
            subscriber("all", None),
            subscriber("ia", ["ia"]),
            subscriber("centres", ["centres-appels"]),
        ]
    )
    deliveries = router.route({"k1": (DEMARCHAGE, IA), "k2": (CENTRES,)})
    pairs = sorted((d.subscriber, d.item_key) for d in deliveries)
    assert pairs == [("all", "k1"), ("all", "k2"), ("centres", "k2"), ("ia", "k1")]
    everything = next(d for d in deliveries if d.subscriber == "all" and d.item_key == "k1")
    assert everything.terms == {
        "demarchage": ("démarchage",),
        "ia": ("IA", "intelligence artificielle"),
    }


def test_no_subscribers_no_deliveries() -> None:
    assert Router([]).route({"k1": (DEMARCHAGE,)}) == []
