"""Subscribers' own choices in the store (issue 24), on SQLite and PostgreSQL: sign-up (once
per address, whoever confirms twice), overrides dropped when the configuration moves the
subscriber, reset, pause, erasure with its history, and the generation replicas follow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config.model import Config
from monitor.config.rules import RuleConfig
from monitor.config.subscribers import SubscriberConfig
from monitor.store import open_engine, reading, transaction
from monitor.store.outbox import Outbox
from monitor.store.signups import Requested, Signups
from monitor.store.sources import SourceStore
from monitor.store.standing import Standing, Unsubscription
from monitor.store.subscribers import SubscriberBook, mailbox, normal_address
from monitor.store.tables import digests, outbox, signup_requests, subscribers
from tests.support.databases import BACKENDS, fresh_storage
from tests.support.store import T0, at_revision, item, outcome
from tests.support.store import config as sources_config

RULES = [RuleConfig(name="ia", any=["IA"]), RuleConfig(name="demarchage", any=["démarchage"])]


def _config(address: str = "a@example.ma") -> Config:
    return Config(rules=RULES, subscribers=[SubscriberConfig(name="analyste", email=address)])


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with fresh_storage(request.param, tmp_path) as storage:
        engine = await open_engine(storage)
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Ana@Exemple.MA", "Ana@exemple.ma"),  # the local part is the receiver's business
        ("x@Café.Example", "x@xn--caf-dma.example"),
        ("a@straße.de", "a@xn--strae-oqa.de"),  # IDNA 2008: not "strasse.de" (IDNA 2003)
        (" x@b.ma ", "x@b.ma"),
    ],
)
def test_addresses_are_normalised(given: str, kept: str) -> None:
    assert normal_address(given) == kept


@pytest.mark.parametrize(
    "hostile",
    [
        "a@b.c\r\nBcc: x@y",
        "a\x0b@b.ma",
        "a@b\x1b.ma",
        "no-at-sign",
        "a@b",
        "@b.ma",
        "a@",
        "a b@c.ma",
        "a@@b.ma",
        "<a@b.ma>",
        # what SubscriberConfig refuses would stop the daemon reading it: no space of any kind,
        # no control, format or separator character
        "a\xa0b@example.ma",
        "a\u2028b@example.ma",
        "a\u3000b@example.ma",
        "a\x85b@example.ma",
        "a\u1680b@example.ma",
        "a\u200bb@example.ma",
        "a@exa\u202fmple.ma",
    ],
)
def test_hostile_or_invalid_addresses_are_refused(hostile: str) -> None:
    with pytest.raises(ValueError, match="not an email address"):
        normal_address(hostile)


async def test_an_address_signs_up_once(engine: AsyncEngine) -> None:
    book = SubscriberBook(engine)
    before = await book.generation()
    name, created = await book.sign_up(
        "Lina@Example.MA", T0, rules=["ia"], digest="daily 08:00", language="en"
    )
    assert created and name.startswith("signup:")
    again, created_again = await book.sign_up(
        "Lina@example.ma", T0, rules=["demarchage"], digest="immediate", language="fr"
    )
    assert (again, created_again) == (name, False)
    [choice] = await book.choices()
    assert (choice.address, choice.rules, choice.digest) == (
        "Lina@example.ma",
        ("ia",),
        "daily 08:00",
    )
    assert await book.signed_up("lina@EXAMPLE.ma") == name  # whatever the case
    assert await book.signed_up("Lina@EXAMPLE.ma") == name
    for variant in ("lina@example.ma", "LINA@example.ma"):  # never a second subscription
        assert await book.sign_up(variant, T0, rules=["ia"], digest="immediate", language="en") == (
            name,
            False,
        )
    assert [c.address for c in await book.choices()] == ["Lina@example.ma"]  # mail goes there
    assert await book.generation() != before
    state = (await book.states())[name]
    assert (state.target, state.target_since) == ("Lina@example.ma", T0)


async def test_an_override_lasts_until_the_configuration_moves_the_subscriber(
    engine: AsyncEngine,
) -> None:
    store, book = SourceStore(engine), SubscriberBook(engine)
    await store.sync(_config(), T0)
    await book.choose("analyste", "a@example.ma", {"digest": "weekly mon 08:00"}, T0)
    await book.pause("analyste", T0 + timedelta(days=7))
    await store.sync(_config(), T0 + timedelta(hours=1))  # the same address: kept
    [choice] = await book.choices()
    assert choice.digest == "weekly mon 08:00" and choice.rules is None
    assert await Standing(engine).paused(T0) == {"analyste"}
    generation = await book.generation()

    moved = T0 + timedelta(hours=2)
    await store.sync(_config("new@example.ma"), moved)
    assert await book.choices() == []
    assert await Standing(engine).paused(T0) == set()
    state = (await book.states())["analyste"]
    assert (state.target, state.target_since) == ("new@example.ma", moved)
    assert await book.generation() != generation  # every replica follows


async def test_reset_drops_an_override_and_a_pause(engine: AsyncEngine) -> None:
    store, book = SourceStore(engine), SubscriberBook(engine)
    await store.sync(_config(), T0)
    assert not await book.reset("analyste")  # nothing chosen yet
    await book.choose("analyste", "a@example.ma", {"rules": ["ia"], "max_items": 5}, T0)
    await book.choose("analyste", "a@example.ma", {"max_items": None}, T0)  # back to config
    [choice] = await book.choices()
    assert (choice.rules, choice.max_items) == (("ia",), None)
    await book.pause("analyste", T0 + timedelta(days=1))
    assert await book.reset("analyste")
    assert await book.choices() == []
    assert await Standing(engine).paused(T0) == set()
    # a choice for another address (the configuration moved it, not yet synced) starts afresh
    await book.choose("analyste", "a@example.ma", {"rules": ["ia"]}, T0)
    await book.choose("analyste", "new@example.ma", {"language": "en"}, T0)
    [choice] = await book.choices()
    assert (choice.address, choice.rules, choice.language) == ("new@example.ma", None, "en")
    with pytest.raises(ValueError, match="not something a subscriber chooses"):
        await book.choose("analyste", "a@example.ma", {"email": "x@y.ma"}, T0)


async def test_remove_erases_a_signed_up_subscriber_and_its_history(engine: AsyncEngine) -> None:
    book, box = SubscriberBook(engine), Outbox(engine)
    name, _ = await book.sign_up(
        "z@example.ma", T0, rules=["ia"], digest="immediate", language="fr"
    )
    keep, _ = await book.sign_up(
        "y@example.ma", T0, rules=["ia"], digest="immediate", language="fr"
    )
    await SourceStore(engine).sync(sources_config(), T0)
    await SourceStore(engine).record([outcome("a", (item("a", "k1"),), subs=(name, keep))])
    await box.close_periods({name: 50, keep: 50}, T0)
    signups = Signups(engine)
    for address in ("z@example.ma", "y@example.ma"):
        await signups.request(Requested(address, ("ia",), "immediate", "fr"), "c" + address, T0)
    assert await book.remove("Z@EXAMPLE.MA") == name  # whatever the case
    async with reading(engine) as conn:  # its sign-up request too, not the other's
        asked = (await conn.execute(select(signup_requests.c.address))).scalars().all()
    assert asked == ["y@example.ma"]
    async with reading(engine) as conn:
        for table in (outbox, digests, subscribers):
            left = await conn.scalar(
                select(func.count()).select_from(table).where(table.c.subscriber == name)
                if table is not subscribers
                else select(func.count()).where(subscribers.c.name == name)
            )
            assert left == 0, table.name
        assert await conn.scalar(select(func.count()).where(outbox.c.subscriber == keep)) == 1
    assert [c.name for c in await book.choices()] == [keep]
    assert await book.remove("a@example.ma") is None  # a configured subscriber: not here


async def test_an_unsubscription_acts_only_on_the_address_the_link_names(
    engine: AsyncEngine,
) -> None:
    """The store checks the address a link was sent to and unsubscribes in one transaction."""
    store, standing = SourceStore(engine), Standing(engine)
    await store.sync(_config(), T0)
    seen: list[tuple[str | None, object]] = []

    def refuses(target: str | None, since: object) -> bool:
        seen.append((target, since))
        return False

    assert await standing.unsubscribe("analyste", T0, refuses) is Unsubscription.OTHER_ADDRESS
    assert seen == [("a@example.ma", T0)]
    assert await standing.unsubscribed() == set()
    assert await standing.unsubscribe("nobody", T0, refuses) is Unsubscription.UNKNOWN
    done = await standing.unsubscribe("analyste", T0, lambda target, since: True)
    assert done is Unsubscription.DONE
    assert await standing.unsubscribed() == {"analyste"}
    await store.sync(_config("new@example.ma"), T0 + timedelta(days=1))  # a new subscription
    assert await standing.unsubscribed() == set()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_subscribers_from_before_v0014_keep_their_legacy_links(
    backend: str, tmp_path: Path
) -> None:
    """A subscriber known before v0014 has no recorded address change: the links it was sent
    before (legacy tokens) keep unsubscribing it until its address changes."""
    async with fresh_storage(backend, tmp_path) as storage:
        await at_revision(storage, "0013")
        old = await open_engine(storage, upgrade=True)
        try:  # its row as a daemon of 0013 left it: the columns of v0014 empty
            async with transaction(old) as conn:
                await conn.execute(
                    subscribers.insert().values(name="analyste", since=T0, target="a@example.ma")
                )
            state = (await SubscriberBook(old).states())["analyste"]
            assert (state.target, state.target_since, state.paused_until) == (
                "a@example.ma",
                None,
                None,
            )
            await SourceStore(old).sync(_config(), T0 + timedelta(days=1))  # the same address
            assert (await SubscriberBook(old).states())["analyste"].target_since is None
            assert await SubscriberBook(old).generation() == ""
        finally:
            await old.dispose()


async def test_signing_up_again_after_unsubscribing_subscribes_again(engine: AsyncEngine) -> None:
    book, standing = SubscriberBook(engine), Standing(engine)
    name, _ = await book.sign_up(
        "z@example.ma", T0, rules=["ia"], digest="immediate", language="fr"
    )
    assert await standing.unsubscribe(name, T0, lambda t, s: True) is Unsubscription.DONE
    generation = await book.generation()
    later = T0 + timedelta(days=3)
    again = await book.sign_up(
        "z@example.ma", later, rules=["demarchage"], digest="daily 08:00", language="en"
    )
    assert again == (name, True)
    assert await standing.unsubscribed() == set()
    [choice] = await book.choices()
    assert (choice.rules, choice.digest, choice.language) == (("demarchage",), "daily 08:00", "en")
    assert await book.generation() != generation
    # a subscriber who never left keeps what it chose
    assert await book.sign_up(
        "z@example.ma", later, rules=[], digest="immediate", language="fr"
    ) == (
        name,
        False,
    )
    assert (await book.choices())[0].digest == "daily 08:00"


def test_a_mailbox_is_the_address_in_lower_case_not_case_folded() -> None:
    assert mailbox("Ana.B@Exemple.MA") == mailbox("ana.b@exemple.ma") == "ana.b@exemple.ma"
    assert mailbox("straße@x.de") != mailbox("strasse@x.de")  # casefold() would merge them
