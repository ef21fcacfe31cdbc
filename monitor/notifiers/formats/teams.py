"""Microsoft Teams, through a Workflows (Power Automate) "when a Teams webhook request is
received" flow: a message whose one attachment is an Adaptive Card.

From Microsoft's documentation:

- https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook
  and the Workflows template "Post to a channel when a webhook request is received":
  ``{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
  "content": {"type": "AdaptiveCard", "version": "1.4", "body": […]}}]}``; the flow answers 202.
- A Teams message, card included, is limited to about 28 KB: each request body stays under
  24 000 bytes, the rest is left for what Teams wraps around the card.
- https://adaptivecards.io/explorer/TextRun.html: a ``TextRun`` is not markdown, so feed text is
  shown as written, never as formatting or links; the title's link is an ``Action.OpenUrl``
  ``selectAction``, http(s) only.

One container per item (the title, linked; ``source · date · rules``; the snippet, matched terms
bold and highlighted); a longer digest goes in several cards (`` (2/3)`` after the subject).
"""

from __future__ import annotations

from monitor.core.models import Digest
from monitor.digest.render import Renderer
from monitor.digest.views import ItemView
from monitor.notifiers.formats.base import (
    LABEL_ROOM,
    Entry,
    Request,
    Target,
    clip,
    entries,
    json_request,
    json_size,
    label,
    link,
    pack,
    translator,
)

MESSAGE_MAX = 24_000  # bytes of JSON, under Teams' ~28 KB
TITLE_MAX, LINK_MAX, META_MAX, SNIPPET_MAX = 300, 2000, 300, 800
CARD_TYPE = "application/vnd.microsoft.card.adaptive"

# "{{DATE(…)}}" and "{{TIME(…)}}" are functions in card text: a zero-width space defuses them
plain = translator({"{": "{\u200b"})


def run(text: str, **style: object) -> dict[str, object]:
    return {"type": "TextRun", "text": plain(text), **style}


def rich(*runs: dict[str, object], spacing: str = "None") -> dict[str, object]:
    return {"type": "RichTextBlock", "inlines": list(runs), "spacing": spacing}


def snippet_runs(view: ItemView) -> list[dict[str, object]]:
    if sum(len(text) for text, _ in view.snippet_parts) > SNIPPET_MAX:
        return [run(clip(view.snippet, SNIPPET_MAX))]
    return [
        run(text, weight="Bolder", highlight=True) if hit else run(text)
        for text, hit in view.snippet_parts
    ]


def container(entry: Entry) -> dict[str, object]:
    view = entry.view
    title = run(clip(view.title, TITLE_MAX), weight="Bolder")
    href = link(view, LINK_MAX)
    if href is not None:
        title |= {"color": "Accent", "selectAction": {"type": "Action.OpenUrl", "url": href}}
    blocks = [
        rich(title),
        rich(run(clip(entry.about, META_MAX), isSubtle=True, size="Small")),
    ]
    if view.snippet:
        blocks.append(rich(*snippet_runs(view)))
    return {"type": "Container", "items": blocks, "separator": True, "spacing": "Medium"}


def message(subject: str, containers: list[dict[str, object]]) -> dict[str, object]:
    header = rich(run(subject, weight="Bolder", size="Medium"))
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": [header, *containers],
    }
    return {
        "type": "message",
        "attachments": [{"contentType": CARD_TYPE, "contentUrl": None, "content": card}],
    }


def build(digest: Digest, renderer: Renderer, target: Target) -> list[Request]:
    subject = renderer.subject(digest)
    containers = [container(entry) for entry in entries(digest, renderer)]
    envelope = json_size(message(subject + "x" * LABEL_ROOM, []))
    sizes = [json_size(body) + 1 for body in containers]  # and the comma before it
    groups = pack(sizes, MESSAGE_MAX - envelope, len(containers) or 1)
    return [
        json_request(
            target.url,
            message(subject + label(number, len(groups)), [containers[i] for i in group]),
        )
        for number, group in enumerate(groups, 1)
    ]
