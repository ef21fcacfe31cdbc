"""Webhook formats (issue 4): each preset's body against its service's documented shape and
limits, as pure builders and through the real WebhookNotifier against a loopback receiver."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks import Webhook

from monitor.config.subscribers import SubscriberConfig, WebhookFormat
from monitor.core.errors import ConfigError, ReceiverGone, TransientNotifyError
from monitor.core.models import Digest, DigestItem
from monitor.digest.render import Renderer
from monitor.notifiers import build_notifier
from monitor.notifiers.base import Notifier, NotifierContext
from monitor.notifiers.formats import FORMATS, Request, Target
from monitor.notifiers.formats.base import clip, pack, translator, utf16_len
from monitor.notifiers.formats.generic import payload
from monitor.notifiers.formats.ntfy import split_url
from monitor.notifiers.formats.telegram import method_url, visible

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PRESETS = ["slack", "discord", "teams", "mattermost", "ntfy", "telegram"]
RENDERER = Renderer(ZoneInfo("Africa/Casablanca"))


def item(
    n: int, title: str | None = None, link: str | None = None, summary: str = ""
) -> DigestItem:
    return DigestItem(
        id=f"it_{n}",
        title=title if title is not None else f"Article {n} : le démarchage " + "très " * 60,
        link=link if link is not None else f"https://example.ma/a/{n}?id={n}&utm=x",
        source="leseco",
        published=datetime(2026, 11, 26, 6, 30, tzinfo=UTC),
        summary=summary or "Les centres d'appel et le démarchage téléphonique. " * 12,
        rules=("demarchage",),
        terms={"demarchage": ("démarchage",)},
    )


def digest(*items: DigestItem) -> Digest:
    return Digest("dg_42", "ops", datetime(2026, 11, 26, 8, tzinfo=UTC), tuple(items))


LONG = digest(*(item(n) for n in range(120)))
LONG_LINKS = [f"https://example.ma/a/{n}?id={n}&utm=x" for n in range(120)]


# What each service accepts, from its documentation (see each module's docstring); each check
# returns the links the message carries, in order.


def walk(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(d for v in value.values() for d in walk(v))]
    if isinstance(value, list):
        return [d for v in value for d in walk(v)]
    return []


def check_slack(url: str, body: dict[str, Any]) -> list[str]:
    assert set(body) == {"text", "blocks"} and body["text"]
    header, *sections = body["blocks"]
    assert len(body["blocks"]) <= 50
    assert header["type"] == "header" and len(header["text"]["text"]) <= 150
    texts = [block["text"]["text"] for block in sections]
    assert all(b["type"] == "section" and b["text"]["type"] == "mrkdwn" for b in sections)
    assert all(utf16_len(text) <= 3000 for text in texts) and sum(map(utf16_len, texts)) <= 12_000
    links = [html.unescape(m) for t in texts for m in re.findall(r"<([^|<>]+)\|[^<>]*>", t)]
    outside = [re.sub(r"<[^|<>]+\|[^<>]*>", "", text) for text in texts]
    assert not any("<" in t or ">" in t for t in outside)  # feed text is escaped
    return [unquote(link) for link in links]


def check_discord(url: str, body: dict[str, Any]) -> list[str]:
    assert url.endswith("wait=true")
    assert body["allowed_mentions"] == {"parse": []}
    assert 0 < len(body["content"]) <= 2000 and len(body["embeds"]) <= 10
    for embed in body["embeds"]:
        assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert sum(utf16_len(e["title"]) + utf16_len(e["description"]) for e in body["embeds"]) <= 6000
    return [embed["url"] for embed in body["embeds"] if "url" in embed]


def check_teams(url: str, body: dict[str, Any]) -> list[str]:
    assert body["type"] == "message" and len(body["attachments"]) == 1
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4" and card["body"]
    assert len(json.dumps(body, ensure_ascii=False).encode()) <= 28_000
    actions = [d for d in walk(card) if d.get("type") == "Action.OpenUrl"]
    return [action["url"] for action in actions]


def check_mattermost(url: str, body: dict[str, Any]) -> list[str]:
    assert set(body) == {"text"} and 0 < len(body["text"]) <= 16_383
    return [unquote(link) for link in re.findall(r"\]\((https?://[^)\s]+)\)", body["text"])]


def check_ntfy(url: str, body: dict[str, Any]) -> list[str]:
    assert url.endswith("/") and not url.endswith("mytopic/")  # the server's root
    assert body["topic"] == "mytopic" and body["title"] and body["message"]
    assert body["tags"] == ["newspaper"]
    assert len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()) <= 4096
    links = [line for line in body["message"].split("\n") if line.startswith(("http:", "https:"))]
    assert body.get("click", links[0] if links else None) == (links[0] if links else None)
    return links


def check_telegram(url: str, body: dict[str, Any]) -> list[str]:
    assert url.endswith("/sendMessage")
    assert body["chat_id"] == "-1001234" and body["parse_mode"] == "HTML"
    assert body["disable_web_page_preview"] is True
    assert 0 < visible(body["text"]) <= 4096
    assert set(re.findall(r"</?([a-z]*)", body["text"])) <= {"b", "i", "a"}
    return [html.unescape(link) for link in re.findall(r'<a href="([^"]*)">', body["text"])]


CHECKS: dict[str, Callable[[str, dict[str, Any]], list[str]]] = {
    "slack": check_slack,
    "discord": check_discord,
    "teams": check_teams,
    "mattermost": check_mattermost,
    "ntfy": check_ntfy,
    "telegram": check_telegram,
}


def target(fmt: str, base: str = "https://hooks.example.com") -> Target:
    if fmt == "ntfy":
        return Target(f"{base}/mytopic")
    return Target(f"{base}/bot123:AbC" if fmt == "telegram" else f"{base}/hook", "-1001234")


def build(fmt: str, what: Digest) -> list[Request]:
    return FORMATS[fmt].build(what, RENDERER, target(fmt))


def links_of(fmt: str, requests: list[Request]) -> list[str]:
    return [link for r in requests for link in CHECKS[fmt](r.url, r.json())]


def test_every_configurable_format_has_a_builder() -> None:
    assert set(FORMATS) == set(get_args(WebhookFormat))


@pytest.mark.parametrize("fmt", PRESETS)
def test_a_long_digest_is_split_within_the_limits_and_keeps_every_link(fmt: str) -> None:
    requests = build(fmt, LONG)
    assert len(requests) > 1
    assert links_of(fmt, requests) == LONG_LINKS  # each once, in order
    texts = [r.body.decode() for r in requests]
    assert all(f"{n}/{len(requests)}" in text for n, text in enumerate(texts, 1))  # (2/5)


@pytest.mark.parametrize("fmt", PRESETS)
def test_a_short_digest_is_one_message(fmt: str) -> None:
    [request] = build(fmt, digest(item(1, title="Le démarchage « interdit »")))
    assert links_of(fmt, [request]) == [LONG_LINKS[1]]
    assert "(1/1)" not in request.body.decode() and "interdit" in request.body.decode()


@pytest.mark.parametrize("fmt", PRESETS)
def test_an_empty_digest_is_one_valid_message(fmt: str) -> None:
    [request] = build(fmt, digest())
    assert links_of(fmt, [request]) == []


HOSTILE = item(
    7,
    title="<script>x</script> & <!channel> @everyone @all [x](javascript:alert(1)) {{DATE(1)}}",
    link="javascript:alert(1)",
    summary="<b>gras</b> &amp; <@123> démarchage",
)


@pytest.mark.parametrize("fmt", PRESETS)
def test_feed_text_is_escaped_and_only_http_links_are_links(fmt: str) -> None:
    [request] = build(fmt, digest(HOSTILE, item(8, link="data:text/html,x")))
    assert links_of(fmt, [request]) == []  # and the shape is the service's


@pytest.mark.parametrize(
    ("fmt", "escaped"),
    [
        ("slack", "&lt;script&gt;x&lt;/script&gt; &amp; &lt;!channel&gt;"),
        ("discord", r"\\<script\\>x\\</script\\> & \\<!channel\\> @everyone"),
        (
            "mattermost",
            "@\u200beveryone @\u200ball \\\\[x\\\\]\\\\(javascript:alert\\\\(1\\\\)\\\\)",
        ),
        ("telegram", "&lt;script&gt;x&lt;/script&gt; &amp; &lt;!channel&gt;"),
        ("teams", "{\u200b{\u200bDATE(1)}}"),
        ("ntfy", "<script>x</script> & <!channel> @everyone"),  # plain text, shown as is
    ],
)
def test_each_preset_escapes_for_its_markup(fmt: str, escaped: str) -> None:
    [request] = build(fmt, digest(HOSTILE))
    assert escaped in json.dumps(request.json(), ensure_ascii=False)


@pytest.mark.parametrize("fmt", PRESETS)
def test_an_outsized_item_is_clipped_and_its_too_long_link_dropped(fmt: str) -> None:
    huge = item(1, title="&<>*_" * 2000, link="https://example.ma/" + "&" * 3000)
    requests = build(fmt, digest(huge, item(2)))
    assert links_of(fmt, requests) == [LONG_LINKS[2]]  # the limits hold (checked in there)
    assert "…" in requests[0].body.decode()


def test_a_long_subject_keeps_the_part_label_in_the_slack_header() -> None:
    rules = tuple(f"regle_{n}_" + "x" * 30 for n in range(8))
    many = [
        DigestItem(f"it_{n}", "t", f"https://e.ma/{n}", "s", None, "", rules) for n in range(99)
    ]
    requests = build("slack", digest(*many))
    headers = [r.json()["blocks"][0]["text"]["text"] for r in requests]
    assert len(headers) == 3 and all(h.endswith(f"({n}/3)") for n, h in enumerate(headers, 1))


def test_discord_keeps_the_thread_query_and_telegram_and_ntfy_derive_their_urls() -> None:
    [request] = FORMATS["discord"].build(digest(), RENDERER, Target("https://d.com/w/1/t?x=2"))
    assert request.url == "https://d.com/w/1/t?x=2&wait=true"
    assert (
        method_url("https://api.telegram.org/bot1:Ab")
        == "https://api.telegram.org/bot1:Ab/sendMessage"
    )
    assert method_url("https://t.me/bot1:Ab/sendMessage") == "https://t.me/bot1:Ab/sendMessage"
    assert split_url("https://u:p@n.example/sub/alerts/?auth=tk%3D") == (
        "https://u:p@n.example/sub/?auth=tk%3D",
        "alerts",
    )


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("a&b", 10, "a&amp;b"),
        ("a&b", 6, "a…"),
        ("aa&", 6, "aa…"),
        ("aaaa", 4, "aaaa"),
        ("aaaaa", 4, "aaa…"),
    ],
)
def test_clip_never_cuts_an_escape(text: str, limit: int, expected: str) -> None:
    assert clip(text, limit, translator({"&": "&amp;"})) == expected


def test_pack_keeps_order_and_both_limits() -> None:
    assert pack([3, 3, 3, 9, 1], budget=7, max_count=2) == [[0, 1], [2], [3], [4]]
    assert pack([], budget=7, max_count=2) == [[]]


# Through the real notifier, against a receiver on loopback.


@dataclass
class Receiver:
    """Records each request; answers each with the next (status, headers) of ``script``."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    seen: list[tuple[str, dict[str, str], bytes, int]] = field(default_factory=list)

    async def hook(self, request: web.Request) -> web.Response:
        status, headers = self.script.pop(0) if self.script else (200, {})
        self.seen.append((str(request.url), dict(request.headers), await request.read(), status))
        return web.Response(status=status, headers=headers)

    def accepted(self) -> list[tuple[str, dict[str, Any]]]:
        return [(url, json.loads(body)) for url, _, body, status in self.seen if status < 300]


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def server(receiver: Receiver) -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_post("/{path:.*}", receiver.hook)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    try:
        yield test_server
    finally:
        await test_server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def notifier(fmt: str, server: TestServer, session: aiohttp.ClientSession) -> Notifier:
    url = target(fmt, str(server.make_url("")).rstrip("/")).url
    settings = {"name": "ops", "webhook": url, "format": fmt}
    if fmt == "generic":  # only generic is signed; the config refuses a secret elsewhere
        settings["secret"] = SECRET
    if fmt == "telegram":
        settings["chat_id"] = "-1001234"
    context = NotifierContext(RENDERER, None, session, io.StringIO())
    return build_notifier(SubscriberConfig.model_validate(settings), context)


@pytest.mark.parametrize("fmt", PRESETS)
async def test_each_preset_delivers_a_long_digest_to_a_receiver(
    fmt: str, server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    await notifier(fmt, server, session).send(LONG)
    accepted = receiver.accepted()
    assert len(accepted) == len(build(fmt, LONG)) > 1
    assert [link for url, body in accepted for link in CHECKS[fmt](url, body)] == LONG_LINKS
    for _, headers, _, _ in receiver.seen:  # no Standard Webhooks headers
        assert headers["Content-Type"] == "application/json"
        assert not {"webhook-id", "webhook-signature"} & {h.lower() for h in headers}


@pytest.mark.parametrize("fmt", PRESETS)
def test_a_secret_on_a_preset_is_a_config_error(fmt: str) -> None:
    settings = {"name": "ops", "webhook": "https://h.example/x", "format": fmt, "secret": SECRET}
    if fmt == "telegram":
        settings["chat_id"] = "-1001234"
    with pytest.raises(ValueError, match="not signed"):
        SubscriberConfig.model_validate(settings)


async def test_generic_is_unchanged_and_signed(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    await notifier("generic", server, session).send(LONG)
    [(_, headers, body, _)] = receiver.seen
    assert Webhook(SECRET).verify(body, headers) == json.loads(json.dumps(payload(LONG)))


async def test_a_failed_part_is_retried_from_where_it_stopped(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    hook = notifier("mattermost", server, session)
    count = len(build("mattermost", LONG))
    receiver.script = [(200, {}), (503, {})]
    with pytest.raises(TransientNotifyError, match=f"\\(message 2/{count}\\): HTTP 503"):
        await hook.send(LONG)
    await hook.send(LONG)  # the retry starts at the refused message
    assert len(receiver.seen) == count + 1
    links = [link for url, body in receiver.accepted() for link in check_mattermost(url, body)]
    assert links == LONG_LINKS  # every item once, in order
    await notifier("mattermost", server, session).send(LONG)  # a new process sends it all again
    assert len(receiver.seen) == 2 * count + 1


async def test_a_short_retry_after_is_waited_for_a_long_one_is_transient(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.script = [(429, {"Retry-After": "0"}), (429, {"Retry-After": "3600"})]
    with pytest.raises(TransientNotifyError, match="HTTP 429"):
        await notifier("discord", server, session).send(LONG)
    assert [status for *_, status in receiver.seen] == [429, 429]
    receiver.script = [(429, {"Retry-After": "0"}), (429, {})]
    with pytest.raises(TransientNotifyError, match="HTTP 429"):
        await notifier("slack", server, session).send(digest(item(1)))
    receiver.script = [(429, {"Retry-After": "0"})]
    await notifier("slack", server, session).send(digest(item(1)))
    assert [status for *_, status in receiver.seen][-2:] == [429, 200]


async def test_gone_in_the_middle_of_a_sequence_is_receiver_gone(
    server: TestServer, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    receiver.script = [(200, {}), (410, {})]
    with pytest.raises(ReceiverGone, match="410"):
        await notifier("telegram", server, session).send(LONG)
    assert len(receiver.seen) == 2


@pytest.mark.parametrize("url", ["https://ntfy.sh/", "https://ntfy.sh/a/b%20c"])
def test_an_ntfy_url_without_a_topic_is_a_config_error(url: str) -> None:
    subscriber = SubscriberConfig.model_validate({"name": "ops", "webhook": url, "format": "ntfy"})
    context = NotifierContext(RENDERER, None, None, io.StringIO())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="topic"):
        build_notifier(subscriber, context)
