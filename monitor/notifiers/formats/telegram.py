"""Telegram, through the Bot API's ``sendMessage``: ``{"chat_id", "text", "parse_mode": "HTML",
"disable_web_page_preview": true}``.

From https://core.telegram.org/bots/api#sendmessage and #html-style:

- The webhook URL is ``https://api.telegram.org/bot<token>`` (``/sendMessage`` is appended) or the
  method's URL itself; ``chat_id`` comes from the subscriber's configuration.
- ``text`` is 1 to 4096 characters after entities are parsed: what is counted here is the text
  the reader sees (tags dropped, entities read), in UTF-16 code units.
- HTML mode: every ``<``, ``>`` and ``&`` that is not markup is written ``&lt;`` ``&gt;``
  ``&amp;`` (and ``"`` as ``&quot;`` inside an attribute). Only ``<b>``, ``<i>`` and
  ``<a href>`` are written here; feed text never becomes a tag.
- ``disable_web_page_preview``: a digest lists many links, none gets a preview card. (Bot API
  7.0 prefers ``link_preview_options``; the older field is still accepted, the two are mutually
  exclusive.)

Each item: the title in bold, linked (http(s) only); ``source · date · rules`` in italics; the
snippet with its matched terms in bold. A longer digest goes in several messages (`` (2/3)``).
"""

from __future__ import annotations

import html
import re

from yarl import URL

from monitor.core.models import Digest
from monitor.digest.render import Renderer
from monitor.notifiers.formats.base import (
    LABEL_ROOM,
    Entry,
    Request,
    Target,
    clip,
    entries,
    highlighted,
    json_request,
    label,
    link,
    pack,
    translator,
    utf16_len,
)

TEXT_MAX = 4096
METHOD = "sendMessage"
TITLE_MAX, LINK_MAX, META_MAX, SNIPPET_MAX = 400, 1500, 300, 900
SEPARATOR = "\n\n"
TAG = re.compile(r"<[^>]*>")  # only ours: feed text has every "<" escaped

escape = translator({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
escape_attribute = translator({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def method_url(url: str) -> str:
    parsed = URL(url)
    if parsed.path.rstrip("/").endswith("/" + METHOD):
        return url
    return str(parsed.with_path(parsed.path.rstrip("/") + "/" + METHOD))


def text_of(entry: Entry) -> str:
    view = entry.view
    title = clip(view.title, TITLE_MAX, escape)
    href = link(view, LINK_MAX, escape_attribute)
    lines = [f'<b><a href="{href}">{title}</a></b>' if href is not None else f"<b>{title}</b>"]
    lines.append(f"<i>{clip(entry.about, META_MAX, escape)}</i>")
    if view.snippet:
        lines.append(highlighted(view, escape, lambda hit: f"<b>{hit}</b>", SNIPPET_MAX))
    return "\n".join(lines)


def visible(text: str) -> int:
    """The length Telegram counts: the text once its markup is parsed."""
    return utf16_len(html.unescape(TAG.sub("", text)))


def heading(subject: str) -> str:
    return f"<b>{escape(subject)}</b>"


def check(target: Target) -> str | None:
    return None if target.chat_id else "a telegram webhook needs 'chat_id'"


def build(digest: Digest, renderer: Renderer, target: Target) -> list[Request]:
    subject = renderer.subject(digest)
    texts = [text_of(entry) for entry in entries(digest, renderer)]
    budget = TEXT_MAX - visible(heading(subject)) - LABEL_ROOM
    groups = pack([visible(SEPARATOR + text) for text in texts], budget, len(texts) or 1)
    url = method_url(target.url)
    return [
        json_request(
            url,
            {
                "chat_id": target.chat_id,
                "text": SEPARATOR.join(
                    [heading(subject + label(number, len(groups))), *(texts[i] for i in group)]
                ),
                "parse_mode": "HTML",
                "disable_web_page_preview": True,
            },
        )
        for number, group in enumerate(groups, 1)
    ]
