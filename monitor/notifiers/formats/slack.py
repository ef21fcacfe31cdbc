"""Slack incoming webhooks: ``{"text": fallback, "blocks": [header, section, …]}``.

From Slack's documentation:

- https://api.slack.com/messaging/webhooks: POST a JSON message to the hook URL; ``text`` is the
  notification fallback when ``blocks`` are given.
- https://api.slack.com/reference/block-kit/blocks: at most 50 blocks a message; a section's
  text at most 3000 characters; a header's ``plain_text`` at most 150.
- https://api.slack.com/reference/surfaces/formatting: ``&``, ``<`` and ``>`` are control
  characters, sent as ``&amp;`` ``&lt;`` ``&gt;``; a link is ``<url|text>``.
- A message whose blocks carry more than about 13 000 characters in all is refused
  (``msg_blocks_too_long``; reported by users, not documented): each message stays under 12 000.

One section per item: the linked title, ``source · date · rules`` in italics, the snippet with
its matched terms in bold. A longer digest goes in several messages (`` (2/3)`` in the header).
Feed text is escaped; its text objects are ``verbatim`` so that Slack turns no bare name or URL
from a feed into a mention or link. ``*``, ``_``, ``~`` have no escape in mrkdwn: in a title they
may put a few words in bold or italics, nothing more.
"""

from __future__ import annotations

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

BLOCKS_MAX = 50
SECTION_MAX = 3000
HEADER_MAX = 150
MESSAGE_TEXT_MAX = 12_000
# per item, after escaping: 2 + 1500 + 1 + 300 + 2 + 1 + 300 + 2 + 1 + 800 < SECTION_MAX
TITLE_MAX, LINK_MAX, META_MAX, SNIPPET_MAX = 300, 1500, 300, 800

escape = translator({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def mrkdwn(text: str) -> dict[str, object]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(entry: Entry) -> dict[str, object]:
    view = entry.view
    title = clip(view.title, TITLE_MAX, escape)
    href = link(view, LINK_MAX, lambda url: escape(url.replace("|", "%7C")))
    head = f"*<{href}|{title}>*" if href is not None else f"*{title}*"
    lines = [head, f"_{clip(entry.about, META_MAX, escape)}_"]
    if view.snippet:
        lines.append(highlighted(view, escape, lambda hit: f"*{hit}*", SNIPPET_MAX))
    return {"type": "section", "text": mrkdwn("\n".join(lines))}


def message(subject: str, part: str, sections: list[dict[str, object]]) -> dict[str, object]:
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(subject, HEADER_MAX - len(part)) + part},
    }
    return {"text": escape(subject + part), "blocks": [header, *sections]}


def section_size(block: dict[str, object]) -> int:
    text = block["text"]
    assert isinstance(text, dict)
    return utf16_len(str(text["text"]))


def build(digest: Digest, renderer: Renderer, target: Target) -> list[Request]:
    subject = renderer.subject(digest)
    sections = [section(entry) for entry in entries(digest, renderer)]
    budget = MESSAGE_TEXT_MAX - utf16_len(subject) - LABEL_ROOM  # the header's share
    groups = pack([section_size(block) for block in sections], budget, BLOCKS_MAX - 1)
    return [
        json_request(
            target.url,
            message(subject, label(number, len(groups)), [sections[i] for i in group]),
        )
        for number, group in enumerate(groups, 1)
    ]
