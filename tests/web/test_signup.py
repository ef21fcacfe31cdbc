"""Sign-up with double opt-in (``/subscribe``, issue 24) against a real SMTP peer (aiosmtpd)
and a fake clock: the confirmation email, its link's page and button, one subscriber however
often it is followed, the limits, and what is refused (a forged or expired link, a rule not
offered, a hostile address, the honeypot, a form without its CSRF token)."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from monitor.store.standing import Standing, Unsubscription
from monitor.store.subscribers import SubscriberBook
from monitor.web.unsubscribe import Purpose, check_token
from tests.support.peers import FakeClock
from tests.support.signing_up import HOSTILE, SignupServed, link_in, serve_signup
from tests.support.webapp import csrf_of

SENT = "un message vient d'y partir"  # what the page says after any sign-up (French)
FORM = {"address": "Ana@Exemple.MA", "rule": "ia", "schedule": "weekly", "time": "09:30",
        "day": "fri", "language": "ar", "website": ""}  # fmt: skip


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[SignupServed]:
    async with serve_signup(tmp_path, FakeClock()) as served:
        yield served


async def sign_up(
    client: aiohttp.ClientSession,
    headers: dict[str, str] | None = None,
    rules: list[str] | None = None,
    **changes: str,
) -> tuple[int, str]:
    async with client.get("/subscribe?lang=fr") as form:
        token = csrf_of(await form.text())
    data: list[tuple[str, str]] = [("csrf", token)]
    data += [(k, v) for k, v in {**FORM, **changes}.items() if k != "rule"]
    data += [("rule", rule) for rule in (rules if rules is not None else [FORM["rule"]])]
    async with client.post("/subscribe", data=data, headers=headers) as answer:
        return answer.status, await answer.text()


async def confirm(client: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with client.get(path) as page:
        if page.status != 200:
            return page.status, await page.text()
        token = csrf_of(await page.text())
    async with client.post(path, data={"csrf": token}) as answer:
        return answer.status, await answer.text()


async def test_sign_up_confirm_and_one_subscriber(served: SignupServed) -> None:
    book = SubscriberBook(served.engine)
    async with served.client() as client:
        async with client.get("/subscribe?lang=fr") as form:
            page = await form.text()
        assert form.status == 200
        assert "Intelligence artificielle" in page and "Démarchage" in page
        assert "interne" not in page  # not offered
        assert HOSTILE not in page and "&lt;img src=x" in page  # a description never runs
        assert 'lang="ar"' in page  # every digest language
        status, sent = await sign_up(client)
        assert status == 200 and SENT in html.unescape(sent)
        mails = await served.mails()
        assert len(mails) == 1
        mail = served.sink.messages[0]
        assert mail["To"] == "Ana@exemple.ma"  # normalised: the domain in lower case
        assert mail["Subject"] == "أكّد اشتراكك"  # the language chosen
        assert mail["Auto-Submitted"] == "auto-generated"
        path = link_in(mails[0])
        assert path.startswith("/subscribe/confirm/")
        async with client.get(path) as shown:  # a link scanner's GET changes nothing
            text = await shown.text()
        assert shown.status == 200 and '<form method="post"' in text and "<button" in text
        assert "Ana@exemple.ma" in text and "Intelligence artificielle" in text
        assert await book.signed_up("Ana@exemple.ma") is None
        status, text = await confirm(client, path)
        assert status == 200 and "C'est fait" in html.unescape(text)
        name = await book.signed_up("Ana@exemple.ma")
        assert name is not None
        (choice,) = [c for c in await book.choices() if c.signed_up]
        assert (choice.rules, choice.digest, choice.language) == (("ia",), "weekly fri 09:30", "ar")
        # followed again, or twice at once (two replicas): still one subscriber
        results = await asyncio.gather(confirm(client, path), confirm(client, path))
        assert [status for status, _ in results] == [200, 200]
        assert [c.name for c in await book.choices() if c.signed_up] == [name]
    assert len(await served.mails()) == 1  # nothing more was sent


async def test_a_hundred_sign_ups_in_a_minute_send_one_email(tmp_path: Path) -> None:
    clock = FakeClock()
    # behind a proxy: each request from another client, so only the address's limit holds
    async with serve_signup(tmp_path, clock, trusted=["127.0.0.1"]) as served:
        async with served.client() as client:
            for n in range(100):
                headers = {"X-Forwarded-For": f"203.0.113.{n}"}
                status, text = await sign_up(
                    client, headers, address=f"ANA@exemple.ma{'' if n % 2 else '.'}"
                )
                assert status == 200 and SENT in html.unescape(text)
                clock.advance(timedelta(milliseconds=500))
        assert len(await served.mails()) == 1
        clock.advance(timedelta(minutes=10))
        async with served.client() as client:
            await sign_up(client, {"X-Forwarded-For": "203.0.113.200"})
        assert len(await served.mails()) == 2  # ten minutes later, one more


@pytest.mark.parametrize(
    ("trusted", "throttled"),
    [([], True), (["127.0.0.1"], False)],
    ids=["header-ignored-from-untrusted-peer", "header-read-from-trusted-proxy"],
)
async def test_the_client_limit_reads_x_forwarded_for_only_from_trusted_proxies(
    tmp_path: Path, trusted: list[str], throttled: bool
) -> None:
    async with serve_signup(tmp_path, FakeClock(), trusted=trusted) as served:
        async with served.client() as client:
            statuses = []
            for n in range(8):  # each a different address, each claiming another client
                headers = {"X-Forwarded-For": f"198.51.100.{n}"}
                status, _ = await sign_up(client, headers, address=f"p{n}@example.ma")
                statuses.append(status)
        assert (429 in statuses) is throttled
        assert statuses[:5] == [200] * 5
        assert len(await served.mails()) == (5 if throttled else 8)


async def test_a_forged_client_hop_before_the_proxy_does_not_help(tmp_path: Path) -> None:
    async with serve_signup(tmp_path, FakeClock(), trusted=["127.0.0.1"]) as served:
        async with served.client() as client:
            statuses = []
            for n in range(7):  # the proxy appends the real client; the client wrote the rest
                headers = {"X-Forwarded-For": f"10.9.9.{n}, 192.0.2.7"}
                status, _ = await sign_up(client, headers, address=f"q{n}@example.ma")
                statuses.append(status)
        assert statuses[5:] == [429, 429]


async def test_an_existing_subscriber_gets_its_preferences_not_a_second_subscription(
    served: SignupServed,
) -> None:
    async with served.client() as client:
        new_status, new_page = await sign_up(client, address="nouveau@example.ma")
        old_status, old_page = await sign_up(client, address="analyste@EXAMPLE.MA", language="fr")
    assert (old_status, old_page) == (new_status, new_page)  # no enumeration
    mails = await served.mails()
    assert len(mails) == 2
    to = [str(message["To"]) for message in served.sink.messages]
    path = link_in(mails[to.index("analyste@example.ma")])
    assert path.startswith("/preferences/")
    claim = check_token(
        served.token_key, path.rsplit("/", 1)[1], served.clock(), Purpose.PREFERENCES
    )
    assert claim.subscriber == "analyste"
    assert claim.binds(served.token_key, "analyste@example.ma", None)
    assert (
        served.sink.messages[to.index("analyste@example.ma")]["Subject"] == "Vous êtes déjà abonné"
    )
    assert link_in(mails[to.index("nouveau@example.ma")]).startswith("/subscribe/confirm/")
    assert await SubscriberBook(served.engine).signed_up("analyste@example.ma") is None


async def test_one_who_signed_up_gets_its_preferences_until_it_leaves(
    served: SignupServed,
) -> None:
    book, clock = SubscriberBook(served.engine), served.clock
    async with served.client() as client:
        await sign_up(client)
        assert (await confirm(client, link_in((await served.mails())[0])))[0] == 200
        name = await book.signed_up("Ana@exemple.ma")
        assert name is not None
        clock.advance(timedelta(minutes=10))
        await sign_up(client, rules=["demarchage"])  # already a subscriber: its preferences
        path = link_in((await served.mails())[1])
        token = path.removeprefix("/preferences/")
        assert check_token(served.token_key, token, clock(), Purpose.PREFERENCES).subscriber == name
        done = await Standing(served.engine).unsubscribe(name, clock(), lambda *_: True)
        assert done is Unsubscription.DONE
        clock.advance(timedelta(minutes=10))
        await sign_up(client, rules=["demarchage"])  # gone: it may come back
        path = link_in((await served.mails())[2])
        assert (await confirm(client, path))[0] == 200
    assert await Standing(served.engine).unsubscribed() == set()
    (choice,) = await book.choices()
    assert (choice.name, choice.rules) == (name, ("demarchage",))  # the same one, new choices


async def test_a_case_variant_gets_the_preferences_of_the_address_held(
    served: SignupServed,
) -> None:
    """``ana@`` is ``Ana@``'s mailbox: the link it is sent acts on the address held, ``Ana@``
    (a link bound to the address typed would be refused by the preferences page)."""
    async with served.client() as client:
        await sign_up(client)
        assert (await confirm(client, link_in((await served.mails())[0])))[0] == 200
        served.clock.advance(timedelta(minutes=10))
        await sign_up(client, address="ana@exemple.ma")
        path = link_in((await served.mails())[1])
    claim = check_token(
        served.token_key, path.removeprefix("/preferences/"), served.clock(), Purpose.PREFERENCES
    )
    assert claim.binds(served.token_key, "Ana@exemple.ma", None)
    assert not claim.binds(served.token_key, "ana@exemple.ma", None)


@pytest.mark.parametrize(
    ("changes", "rules", "problem"),
    [
        ({}, ["interne"], "sujets de la liste"),  # a rule not offered
        ({}, ["ia", "interne"], "sujets de la liste"),
        ({}, [], "sujets de la liste"),
        ({"address": "a@b.c\r\nBcc: x@y"}, None, "adresse électronique n'est pas valable"),
        ({"address": HOSTILE}, None, "adresse électronique n'est pas valable"),
        ({"address": "pas une adresse"}, None, "adresse électronique n'est pas valable"),
        ({"schedule": "daily", "time": "25:00"}, None, "fréquence"),
        ({"schedule": "hourly"}, None, "fréquence"),
        ({"language": "de"}, None, "langue"),
    ],
    ids=[
        "other-rule",
        "one-other-rule",
        "no-rule",
        "header-injection",
        "markup",
        "no-at",
        "bad-time",
        "bad-schedule",
        "bad-language",
    ],
)
async def test_what_is_refused_sends_nothing(
    served: SignupServed, changes: dict[str, str], rules: list[str] | None, problem: str
) -> None:
    async with served.client() as client:
        status, page = await sign_up(client, None, rules, **changes)
    assert status == 400 and problem in html.unescape(page)
    assert HOSTILE not in page  # the address shown again is escaped
    assert await served.mails() == []


async def test_the_honeypot_answers_as_always_and_sends_nothing(served: SignupServed) -> None:
    async with served.client() as client:
        status, page = await sign_up(client, website="https://spam.example")
    assert status == 200 and SENT in html.unescape(page)
    assert await served.mails() == []


async def test_a_post_without_its_csrf_token_is_refused(served: SignupServed) -> None:
    async with served.client() as client:
        async with client.post("/subscribe", data={**FORM, "csrf": "x"}) as answer:
            assert answer.status == 403
        await sign_up(client)
        path = link_in((await served.mails())[0])
        async with client.get(path) as page:
            assert page.status == 200
        client.cookie_jar.clear()  # another browser: the token is not its own
        async with client.post(path, data={"csrf": "forged"}) as answer:
            assert answer.status == 403
    assert await SubscriberBook(served.engine).signed_up("Ana@exemple.ma") is None


@pytest.mark.parametrize(
    ("mangle", "age", "status"),
    [
        (lambda path: path[:-4] + "AAAA", timedelta(0), 400),
        (lambda path: "/subscribe/confirm/garbage", timedelta(0), 400),
        (lambda path: "/subscribe/confirm/" + "A" * 54, timedelta(0), 400),
        (lambda path: path, timedelta(hours=48, seconds=1), 410),
    ],
    ids=["forged", "garbage", "zeros", "expired"],
)
async def test_forged_or_expired_links_change_nothing(
    served: SignupServed, mangle: Any, age: timedelta, status: int
) -> None:
    async with served.client() as client:
        await sign_up(client)
        path = mangle(link_in((await served.mails())[0]))
        served.clock.advance(age)
        async with client.get(path) as page:
            assert page.status == status
        async with client.get("/subscribe") as form:
            token = csrf_of(await form.text())
        async with client.post(path, data={"csrf": token}) as answer:
            assert answer.status == status
    assert await SubscriberBook(served.engine).signed_up("Ana@exemple.ma") is None


async def test_a_later_email_replaces_the_earlier_link(served: SignupServed) -> None:
    async with served.client() as client:
        await sign_up(client)
        served.clock.advance(timedelta(minutes=10))
        await sign_up(client, rules=["demarchage"])
        first, second = (link_in(mail) for mail in await served.mails())
        assert (await confirm(client, first))[0] == 410
        assert (await confirm(client, second))[0] == 200
    (choice,) = await SubscriberBook(served.engine).choices()
    assert choice.rules == ("demarchage",)


async def test_an_address_the_server_refuses_is_not_retried(tmp_path: Path) -> None:
    clock = FakeClock()
    async with serve_signup(tmp_path, clock, refusals=["550 5.1.1 no such user"]) as served:
        async with served.client() as client:
            status, page = await sign_up(client)
            assert status == 200 and SENT in html.unescape(page)  # the page says the same
            await served.routes.settled()
            assert served.sink.messages == []  # refused, and not sent again
            clock.advance(timedelta(minutes=5))
            await sign_up(client)  # within the address's ten minutes: nothing
            for _ in range(3):  # nor after them, nor the next day, whatever the case
                clock.advance(timedelta(hours=11))
                await sign_up(client, address="ANA@exemple.ma")
            assert await served.mails() == []
            await sign_up(client, address="other@exemple.ma")  # only that address
        assert len(await served.mails()) == 1


@pytest.mark.parametrize(
    ("refusals", "replies"),
    [
        (["451 4.3.0 try again later"], []),  # the recipient, for now
        ([], ["554 5.7.1 message refused"]),  # the message, for good: says nothing of the address
    ],
    ids=["recipient-for-now", "message-refused"],
)
async def test_an_address_not_refused_for_good_is_mailed_after_ten_minutes(
    tmp_path: Path, refusals: list[str], replies: list[str]
) -> None:
    clock = FakeClock()
    async with serve_signup(tmp_path, clock, refusals=refusals, replies=replies) as served:
        async with served.client() as client:
            await sign_up(client)
            assert await served.mails() == []
            clock.advance(timedelta(minutes=10))
            await sign_up(client)
        assert len(await served.mails()) == 1


async def test_without_http_signup_its_pages_answer_404(served: SignupServed) -> None:
    config = served.holder[0]
    assert config.http is not None
    served.holder[0] = config.model_copy(
        update={"http": config.http.model_copy(update={"signup": None})}
    )
    async with served.client() as client:
        for path in ("/subscribe", "/subscribe/confirm/x"):
            async with client.get(path) as answer:
                assert answer.status == 404, path
