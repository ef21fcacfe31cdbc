"""ntfy: the JSON publish format, POSTed to the server's root URL.

From https://docs.ntfy.sh/publish/ (publish as JSON, title, click action, tags, limitations):

- The subscriber's webhook is the topic's URL (``https://ntfy.sh/mytopic``, or on a server of
  one's own); the request goes to its parent (``https://ntfy.sh/``) with the topic in the body:
  ``{"topic", "title", "message", "tags", "click"}``. JSON rather than a text body with
  ``Title``/``Click``/``Tags`` headers, because header values are ASCII and these titles are
  French: JSON carries UTF-8 as it is. Credentials in the URL (``user:pass@`` or ``?auth=``) go
  with it.
- A message is at most 4096 bytes (the server's default message limit; past it the text turns
  into an attachment or is refused), and older servers read at most that much of a JSON body:
  every body here is at most 4096 bytes.
- ``message`` is plain text (no ``markdown``: the Android app would show the marks).

Splitting, not truncating: a digest that does not fit in one notification is sent as several
(`` (2/3)`` in the title), so that every item's link reaches the phone; nothing else would carry
the ones a cut left out. Each item is its title, ``source · date · rules`` and its link (no
snippet: a notification is read at a glance). ``click``, the page opened by tapping the
notification, is the first item's link when it still fits.
"""

from __future__ import annotations

import json
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
    json_request,
    json_size,
    label,
    link,
    pack,
)

BODY_MAX = 4096  # bytes
TITLE_MAX, META_MAX, LINK_MAX = 400, 300, 1500  # bytes of JSON text, per item
SEPARATOR = "\n\n"
TAGS = ["newspaper"]  # shown as 📰
TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")  # what ntfy accepts as a topic name


def text_size(text: str) -> int:
    """Bytes ``text`` takes inside a JSON string."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def split_url(url: str) -> tuple[str, str]:
    """The server's root URL and the topic, from the topic's URL."""
    parsed = URL(url)
    parent, _, topic = parsed.raw_path.rstrip("/").rpartition("/")
    return str(parsed.with_path(parent + "/", encoded=True, keep_query=True)), topic


def text_of(entry: Entry) -> str:
    view = entry.view
    lines = [
        clip(view.title, TITLE_MAX, measure=text_size),
        clip(entry.about, META_MAX, measure=text_size),
    ]
    href = view.href if view.href is not None and text_size(view.href) <= LINK_MAX else None
    if href is not None:
        lines.append(href)
    return "\n".join(lines)


def check(target: Target) -> str | None:
    _, topic = split_url(target.url)
    if TOPIC.match(topic):
        return None
    return "an ntfy webhook is the topic's URL, e.g. https://ntfy.sh/mytopic"


def publish(topic: str, title: str, entries: list[str], click: str | None) -> dict[str, object]:
    body: dict[str, object] = {
        "topic": topic,
        "title": title,
        "message": SEPARATOR.join(entries) or title,
        "tags": TAGS,
    }
    if click is not None:
        body["click"] = click
    return body


def build(digest: Digest, renderer: Renderer, target: Target) -> list[Request]:
    root, topic = split_url(target.url)
    subject = renderer.subject(digest)
    items = entries(digest, renderer)
    texts = [text_of(entry) for entry in items]
    envelope = json_size(publish(topic, subject + "x" * LABEL_ROOM, [], None))
    sizes = [text_size(SEPARATOR + text) for text in texts]
    groups = pack(sizes, BODY_MAX - envelope, len(texts) or 1)
    requests = []
    for number, group in enumerate(groups, 1):
        title = subject + label(number, len(groups))
        body = publish(topic, title, [texts[i] for i in group], None)
        first = link(items[group[0]].view, LINK_MAX) if group else None
        with_click = publish(topic, title, [texts[i] for i in group], first)
        requests.append(
            json_request(root, with_click if json_size(with_click) <= BODY_MAX else body)
        )
    return requests
