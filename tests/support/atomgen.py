"""Generated Atom 1.0 documents, varied the ways real feeds vary (Blogger, WordPress, Hugo, news
CMSs, YouTube), for the differential test of the Atom fast path against feedparser
(tests/sources/test_fastatom.py). Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from html import escape

from tests.support.feedgen import html_fragment, text, words

ATOM = "http://www.w3.org/2005/Atom"
# text feedparser repairs (UTF-8 encoded twice, windows-1252 C1 characters), and text in
# scripts other than Latin
ODD = ("DÃ©marchage tÃ©lÃ©phonique", "centres d\x92appels", "l&#146;IA", "الذكاء الاصطناعي")


def _words(rng: random.Random, low: int, high: int) -> str:
    value = words(rng, low, high)
    if rng.random() < 0.08:
        value = f"{value} {rng.choice(ODD)}"
    return value


def _text_construct(rng: random.Random, name: str, quirky: bool) -> str:
    kind = rng.random()
    if kind < 0.5:
        return f"<{name}>{text(_words(rng, 1, 12), rng)}</{name}>"
    if kind < 0.7:
        return f'<{name} type="text">{escape(_words(rng, 1, 12))}</{name}>'
    if kind < 0.9:
        value = _words(rng, 1, 12)
        if quirky and rng.random() < 0.3:
            value += " <b>gras</b> &amp; co"
        return f'<{name} type="html">{escape(value)}</{name}>'
    if quirky:
        return f'<{name} type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></{name}>'
    return f"<{name}>{escape(_words(rng, 1, 3))}  </{name}>"


def _body(rng: random.Random, name: str, quirky: bool) -> str:
    fragment = html_fragment(rng, quirky)
    if rng.random() < 0.08:
        fragment = f"<p>{rng.choice(ODD)}</p>{fragment}"
    kind = rng.random()
    if kind < 0.6:
        return f'<{name} type="html">{text(fragment, rng)}</{name}>'
    if kind < 0.8:
        return f"<{name}>{escape(_words(rng, 3, 20))}</{name}>"
    if kind < 0.9:
        return f'<{name} type="text/html">{escape(fragment)}</{name}>'
    if quirky:
        return f'<{name} type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></{name}>'
    return f'<{name} type="html"></{name}>'


def _link(rng: random.Random, n: int) -> str:
    kind = rng.random()
    href = f"https://blog.example.ma/{n}-{rng.randint(1, 10**6)}"
    if kind < 0.5:
        return f'<link href="{href}"/>'
    if kind < 0.7:
        return f'<link rel="alternate" type="text/html" href="{escape(href)}?a=1&amp;b=2"/>'
    if kind < 0.78:
        return f'<link rel="replies" type="text/html" href="{href}#comments"/>'
    if kind < 0.85:
        return f'<link rel="enclosure" type="audio/mpeg" length="1" href="{href}.mp3"/>'
    if kind < 0.87:
        return f'<link rel="alternate" type="application/xhtml+xml" href="{href}/x"/>'
    if kind < 0.9:  # case and short names, which feedparser normalises
        rel, media = rng.choice([("Alternate", "text/html"), ("alternate", "HTML"), ("", "xhtml")])
        return f'<link rel="{rel}" type="{media}" href="{href}/v"/>'
    if kind < 0.95:
        return f'<link href="/relatif/{n}"/>'
    return f'<link rel="self" href="{href}.atom"/>'


def _id(rng: random.Random, n: int) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"<id>tag:blog.example.ma,2026:post-{n}</id>"
    if kind < 0.7:
        return f"<id>https://blog.example.ma/?p={n}</id>"
    if kind < 0.8:
        return f"<id>urn:uuid:{rng.randint(0, 10**12):032x}</id>"
    if kind < 0.85:
        return f"<id>/relatif/{n}</id>"
    if kind < 0.9:
        return f"<id>  https:///x.ma/{n} </id>"
    return ""


def _date(rng: random.Random, name: str, base: datetime) -> str:
    when = base - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
    kind = rng.random()
    if kind < 0.6:
        value = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    elif kind < 0.8:
        value = when.strftime("%Y-%m-%dT%H:%M:%S.123+01:00")
    elif kind < 0.9:
        value = when.strftime("%Y-%m-%d")
    else:
        value = rng.choice(["hier", "", "2026-13-45T00:00:00Z"])
    return f"<{name}>{value}</{name}>"


def _people(rng: random.Random, quirky: bool) -> str:
    parts = []
    if rng.random() < 0.6:
        uri = "<uri>https://blog.example.ma/auteur</uri>" if rng.random() < 0.5 else ""
        email = "<email>a@example.ma</email>" if rng.random() < 0.2 else ""
        parts.append(f"<author><name>{escape(_words(rng, 1, 2))}</name>{uri}{email}</author>")
    if rng.random() < 0.1:
        parts.append(f"<contributor><name>{escape(words(rng, 1, 2))}</name></contributor>")
    for _ in range(rng.randint(0, 3)):
        label = f' label="{escape(words(rng, 1, 1))}"' if rng.random() < 0.3 else ""
        parts.append(f'<category term="{escape(words(rng, 1, 1))}"{label}/>')
    if quirky and rng.random() < 0.15:
        parts.append(
            rng.choice(
                [
                    '<media:thumbnail url="https://x.ma/i.jpg"/>',
                    "<source><title>Autre</title><link href='https://autre.ma/'/></source>",
                    "<thr:total>3</thr:total>",
                    "<rights>© 2026</rights>",
                ]
            )
        )
    return "".join(parts)


def entry(rng: random.Random, n: int, base: datetime, quirky: bool) -> str:
    parts: list[str] = []
    if rng.random() < 0.97:
        parts.append(_text_construct(rng, "title", quirky))
    parts += [_link(rng, n) for _ in range(rng.choice([0, 1, 1, 1, 2, 3]))]
    parts.append(_id(rng, n))
    for name in ("published", "updated"):
        if rng.random() < 0.7:
            parts.append(_date(rng, name, base))
    bodies = []
    if rng.random() < 0.8:
        bodies.append(_body(rng, "summary", quirky))
    if rng.random() < 0.4:
        bodies.append(_body(rng, "content", quirky))
    if len(bodies) == 2 and quirky and rng.random() < 0.3:
        bodies.reverse()  # a content before its summary: feedparser files the summary apart
    parts.append(_people(rng, quirky))
    rng.shuffle(parts)  # Atom sets no order (a summary before its content, as feeds write it)
    at = rng.randint(0, len(parts))
    parts[at:at] = bodies
    return f"<entry>{''.join(parts)}</entry>"


def feed(seed: int) -> tuple[bytes, str | None]:
    """One Atom 1.0 document and its Content-Type."""
    rng = random.Random(seed)
    base = datetime(2026, 11, 15, 10, 0, tzinfo=UTC)
    quirky = rng.random() < 0.2
    head = [
        f"<title>{escape(words(rng, 1, 4))}</title>",
        '<link href="https://blog.example.ma/" rel="alternate" type="text/html"/>',
        f"<id>https://blog.example.ma/</id><updated>{base:%Y-%m-%dT%H:%M:%SZ}</updated>",
    ]
    if rng.random() < 0.5:
        head.append('<link rel="self" href="https://blog.example.ma/atom.xml"/>')
    if rng.random() < 0.2:
        head.append('<link rel="hub" href="https://pubsubhubbub.appspot.com/"/>')
    if rng.random() < 0.3:
        head.append("<author><name>Rédaction</name></author>")
    if rng.random() < 0.3:
        head.append('<generator uri="https://gohugo.io/">Hugo</generator>')
    entries = [entry(rng, n, base, quirky) for n in range(rng.randint(1, 25))]
    namespaces = (
        ' xmlns:media="http://search.yahoo.com/mrss/"'
        ' xmlns:thr="http://purl.org/syndication/thread/1.0"'
    )
    lang = ' xml:lang="fr"' if rng.random() < 0.5 else ""
    declaration = rng.choice(['<?xml version="1.0" encoding="utf-8"?>\n', ""])
    body = f'{declaration}<feed xmlns="{ATOM}"{namespaces}{lang}>{"".join(head + entries)}</feed>'
    content_type = rng.choice(["application/atom+xml; charset=utf-8", "application/xml", None])
    return body.encode("utf-8", "xmlcharrefreplace"), content_type
