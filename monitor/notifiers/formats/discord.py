"""Discord webhooks: ``{"content", "embeds": [{"title", "url", "description"}], …}``.

From Discord's documentation (https://discord.com/developers/docs/resources/webhook#execute-webhook
and https://discord.com/developers/docs/resources/message#embed-object-embed-limits):

- ``content`` at most 2000 characters; at most 10 embeds a message; an embed's title at most 256
  characters, its description at most 4096; titles, descriptions, field names and values,
  footers and author names of all the embeds of one message at most 6000 characters together.
- ``allowed_mentions`` with an empty ``parse`` list: nothing in the message notifies anyone,
  whatever "@everyone" or "<@id>" a feed writes.
- ``?wait=true``: Discord answers once the message is stored (200 with the message) instead of
  204 before, so a 2xx means it is in the channel.

One embed per item (the title linked through the embed's ``url``; ``source · date · rules``
and the snippet, matched terms in bold, as its description), up to 10 a message; a longer digest
goes in several messages (`` (2/3)`` after the subject in ``content``). Feed text has Discord's
markdown characters backslash-escaped.
"""

from __future__ import annotations

from yarl import URL

from monitor.core.models import Digest
from monitor.digest.render import Renderer
from monitor.notifiers.formats.base import (
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

CONTENT_MAX = 2000
EMBEDS_MAX = 10
TITLE_MAX = 256
EMBED_TEXT_MAX = 6000  # all embeds of one message
LINK_MAX = 2000
META_MAX, SNIPPET_MAX = 300, 1500  # the description: far under its 4096

# inline markdown, masked links, mentions, quotes and headings; a backslash before punctuation
# shows the character itself
escape = translator({c: "\\" + c for c in "\\*_~`|<>[]#"})


def embed(entry: Entry) -> dict[str, object]:
    view = entry.view
    description = clip(entry.about, META_MAX, escape)
    if view.snippet:
        description += "\n" + highlighted(view, escape, lambda hit: f"**{hit}**", SNIPPET_MAX)
    body: dict[str, object] = {"title": clip(view.title, TITLE_MAX, escape)}
    href = link(view, LINK_MAX)
    if href is not None:
        body["url"] = href
    body["description"] = description
    return body


def embed_size(body: dict[str, object]) -> int:
    return utf16_len(str(body["title"])) + utf16_len(str(body["description"]))


def build(digest: Digest, renderer: Renderer, target: Target) -> list[Request]:
    subject = renderer.subject(digest)
    embeds = [embed(entry) for entry in entries(digest, renderer)]
    groups = pack([embed_size(body) for body in embeds], EMBED_TEXT_MAX, EMBEDS_MAX)
    url = str(URL(target.url).update_query(wait="true"))
    return [
        json_request(
            url,
            {
                "content": clip(subject + label(number, len(groups)), CONTENT_MAX, escape),
                "embeds": [embeds[i] for i in group],
                "allowed_mentions": {"parse": []},
            },
        )
        for number, group in enumerate(groups, 1)
    ]
