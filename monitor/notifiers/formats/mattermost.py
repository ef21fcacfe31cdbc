"""Mattermost incoming webhooks: ``{"text": markdown}`` (the Slack-compatible payload).

From Mattermost's documentation (https://developers.mattermost.com/integrate/webhooks/incoming/):
POST JSON to the hook URL, ``text`` in Mattermost markdown; a post holds at most 16 383
characters (since Mattermost 5.0; longer text is cut or refused), so a longer digest goes in
several posts (`` (2/3)`` in the heading).

Each item is a paragraph: the title as a markdown link (http(s) only; ``(``, ``)`` and ``\\``
percent-encoded in the URL), ``source · date · rules`` in italics, the snippet with its matched
terms in bold. Feed text has markdown's punctuation backslash-escaped (CommonMark), and a
zero-width space after each "@" so that no "@channel" or "@all" from a feed notifies anyone.
"""

from __future__ import annotations

from monitor.core.models import Digest
from monitor.digest.render import Renderer
from monitor.notifiers.formats.base import (
    LABEL_ROOM,
    NO_MENTION,
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

POST_MAX = 16_383
TITLE_MAX, LINK_MAX, META_MAX, SNIPPET_MAX = 600, 2000, 400, 1200
SEPARATOR = "\n\n"

escape = translator({**{c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~"}, **NO_MENTION})
url_safe = translator({"(": "%28", ")": "%29", "\\": "%5C", "<": "%3C", ">": "%3E"})


def paragraph(entry: Entry) -> str:
    view = entry.view
    title = clip(view.title, TITLE_MAX, escape)
    href = link(view, LINK_MAX, url_safe)
    lines = [f"**[{title}]({href})**" if href is not None else f"**{title}**"]
    lines.append(f"_{clip(entry.about, META_MAX, escape)}_")
    if view.snippet:
        lines.append(highlighted(view, escape, lambda hit: f"**{hit}**", SNIPPET_MAX))
    return "  \n".join(lines)  # two spaces: a line break inside the paragraph


def heading(subject: str) -> str:
    return f"#### {escape(subject)}"


def build(digest: Digest, renderer: Renderer, target: Target) -> list[Request]:
    subject = renderer.subject(digest)
    paragraphs = [paragraph(entry) for entry in entries(digest, renderer)]
    budget = POST_MAX - utf16_len(heading(subject)) - 2 * LABEL_ROOM
    sizes = [utf16_len(SEPARATOR + text) for text in paragraphs]
    groups = pack(sizes, budget, len(paragraphs) or 1)
    return [
        json_request(
            target.url,
            {
                "text": SEPARATOR.join(
                    [heading(subject + label(number, len(groups))), *(paragraphs[i] for i in group)]
                )
            },
        )
        for number, group in enumerate(groups, 1)
    ]
