"""Generated RSS documents with what old CMSs and odd feeds do (issue 19 §2), for the
differential tests of the parse path against feedparser (tests/sources/test_fastrss.py,
tests/bench/test_bench_differential.py): text encoded twice, C1 characters, elements nested in the
ones the fast path ignores, isPermaLink spellings, relative or odd GUIDs and links.
Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from html import escape

from tests.support.feedgen import MONTHS_FR, NAMESPACES, text, words


def mojibake(value: str) -> str:
    """``value`` encoded in UTF-8, read as ISO-8859-1 (``Démarchage``: ``DÃ©marchage``)."""
    return value.encode("utf-8").decode("iso-8859-1")


def c1(value: str, rng: random.Random) -> str:
    """``value`` with its apostrophes as windows-1252's (0x92), as a character or a reference."""
    return value.replace("'", rng.choice(["\x92", "&#146;"]))


def odd_text(rng: random.Random, low: int, high: int, twice: bool = True) -> str:
    """Text as element content, escaped: plain, encoded twice (unless not ``twice``), with C1
    apostrophes, or encoded twice with what makes the repair fail (a character outside
    ISO-8859-1, a lone accent)."""
    value = words(rng, low, high)
    kind = rng.random()
    if kind < 0.25 and twice:
        return escape(mojibake(value), quote=False)
    if kind < 0.45:
        return c1(escape(value, quote=False), rng)
    if kind < 0.55 or (kind < 0.25 and not twice):
        return escape(mojibake(value) + rng.choice([" — x", " é", " €"]), quote=False)
    if kind < 0.65 and twice:
        return c1(escape(mojibake(value), quote=False), rng)
    return escape(value, quote=False)


def odd_markup(rng: random.Random, wild: bool) -> str:
    """A description: odd text, or HTML around it, which the fast path leaves to feedparser
    when the text between the tags would be repaired; in a ``wild`` feed, with what the
    sanitizer drops or keeps between two halves of a character encoded twice."""
    if rng.random() < 0.3:
        return odd_text(rng, 2, 12)  # (no tags: repaired on both paths)
    text = odd_text(rng, 2, 12, twice=wild)
    half = mojibake("é")
    forms = [
        f"<p>{text}</p>",
        f"<p>{text}</p><!-- {mojibake('€')} -->",
        f'<p title="{mojibake("été")}">{text}</p>',
        f'<img alt="{mojibake("été")}" src="/i.jpg"/>{text}',
        f"{half[0]}<!-- x -->{half[1]} {text}",
        f"{half[0]}<b>{half[1]}</b> {text}",
        f"&#146; &Atilde;&copy; {text}",
    ]
    if wild:
        forms += [
            f"{half[0]}<script>x</script>{half[1]} {text}",
            f"{half[0]}<iframe></iframe>{half[1]} {text}",
            f"{text}<script>var e = '€';</script>",
        ]
    return rng.choice(forms)


def odd_link(rng: random.Random, n: int) -> str:
    value = rng.choice(
        [
            f"https://www.example.ma/actu/{n}",
            f"/actu/{n}",
            f"https:///www.example.ma/actu/{n}",
            f"https://www.example.ma/?a={n}&amp;b=2",
            f"https://www.example.ma/?a={n}&amp;amp;b=2&amp;c;=3",
            f"https://www.example.ma/{mojibake('été')}/{n}",
            f"https://www.example.ma/l\x92{n}",
            "",
        ]
    )
    return f"<link>{value}</link>" if value or rng.random() < 0.5 else "<link/>"


def odd_guid(rng: random.Random, n: int, wild: bool) -> str:
    spellings = ["", "", ' isPermaLink="true"', ' isPermaLink="false"']
    spellings += [' isPermaLink="false" xml:lang="fr"']
    if wild:  # (feedparser reads them by the letter; the fast path declines them)
        spellings += [' isPermaLink="TRUE"', ' isPermaLink="yes"', ' isPermaLink=" false"']
        spellings += [' ispermalink="false"', ' ISPERMALINK="true"']
    spelling = rng.choice(spellings)
    value = rng.choice(
        [
            f"https://www.example.ma/?p={n}",
            f"/actu/{n}",
            f"actu-{n}",
            f"https:///www.example.ma/{n}",
            f"{mojibake('été')}-{n}",
            f"c1\x92{n}",
            "",
        ]
    )
    return f"<guid{spelling}>{value}</guid>"


def nested(rng: random.Random, when: datetime, wild: bool) -> str:
    """Elements the fast path ignores, bare or (in a ``wild`` feed) holding elements
    feedparser reads."""
    date = f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate>"
    bare = [
        "<category>c</category><author>a@x.ma</author>",
        '<enclosure url="https://x.ma/a.mp3" length="1" type="audio/mpeg"/>',
    ]
    if not wild:
        return rng.choice(bare)
    return rng.choice(
        [
            *bare,
            "<category>c<image><url>https://x.ma/i.jpg</url><title>Savage</title>"
            "<link>https://x.ma/c</link></image></category>",
            "<author>a@x.ma<link>https://x.ma/author</link></author>",
            "<comments>https://x.ma/c<title>Comments</title></comments>",
            f'<enclosure url="https://x.ma/a.mp3" type="audio/mpeg">{date}</enclosure>',
            '<source url="https://x.ma/f">Source<title>S</title></source>',
        ]
    )


def odd_item(rng: random.Random, n: int, base: datetime, wild: bool) -> str:
    when = base - timedelta(hours=rng.randint(0, 24 * 60))
    parts = [f"<title>{odd_text(rng, 1, 8)}</title>"] if rng.random() < 0.95 else []
    parts += [odd_link(rng, n)] if rng.random() < 0.7 else []
    parts += [odd_guid(rng, n, wild)] if rng.random() < 0.7 else []
    rng.shuffle(parts)  # (a GUID before or after the link)
    parts.append(f"<description>{text(odd_markup(rng, wild), rng)}</description>")
    if rng.random() < 0.2:
        parts.append(f"<content:encoded>{text(odd_markup(rng, wild), rng)}</content:encoded>")
    kind = rng.random()
    if kind < 0.5:
        parts.append(f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} +0000</pubDate>")
    elif kind < 0.65:  # a French date, encoded twice
        month = mojibake(MONTHS_FR[when.month - 1])
        parts.append(f"<pubDate>{when.day} {month} {when.year} {when:%H:%M}</pubDate>")
    if rng.random() < 0.15:
        parts.append(nested(rng, when, wild))
    return "<item>" + "".join(parts) + "</item>"


def odd_feed(seed: int) -> tuple[bytes, str | None]:
    """One UTF-8 RSS 2.0 document of items :func:`odd_item` makes, and its Content-Type: the
    shapes feedparser repairs (text encoded twice, C1 characters), reads where the fast path
    would not look (elements nested in ignored ones), or reads by the letter (isPermaLink
    spellings, relative or odd GUIDs and links)."""
    rng = random.Random(seed)
    base = datetime(2025, 11, 15, 10, 0, tzinfo=UTC)
    site = rng.choice(["https://www.example.ma/", "/", "", "https:///www.example.ma/"])
    channel = [f"<title>{odd_text(rng, 1, 3)}</title>"]
    if site or rng.random() < 0.5:
        channel.append(f"<link>{site}</link>")
    if rng.random() < 0.1:
        channel.append('<atom:link rel="alternate" href="https://www.example.ma/alt"/>')
    wild = rng.random() < 0.5  # with shapes the fast path leaves to feedparser
    channel += [odd_item(rng, n, base, wild) for n in range(rng.randint(1, 8))]
    inside = "".join(channel)
    body = f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {NAMESPACES}><channel>'
    body += f"{inside}</channel></rss>"
    content_type = rng.choice(["application/rss+xml; charset=utf-8", "text/xml", None])
    return body.encode("utf-8"), content_type
