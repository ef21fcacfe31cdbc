"""Generated RSS documents, varied the ways real feeds vary, for the differential test of the
fast parse path against feedparser (tests/sources/test_fastrss.py). Deterministic for a seed."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from html import escape

WORDS = (
    "démarchage téléphonique centres d'appels Maroc IA offshoring Casablanca Rabat emploi "
    "clients interdiction août 2026 France relation client externalisation المغرب مراكز الاتصال "
    "Orange/Inwi S&P AT&T «guillemets» — Dr. Oetker naïve œuvre 100 % l'été"
).split()
DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
)
NAMESPACES = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:media="http://search.yahoo.com/mrss/" '
    'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
    'xmlns:slash="http://purl.org/rss/1.0/modules/slash/"'
)


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def text(value: str, rng: random.Random) -> str:
    """``value`` as element text: escaped, or in CDATA."""
    if "]]>" not in value and rng.random() < 0.4:
        return f"<![CDATA[{value}]]>"
    return escape(value, quote=False)


def html_fragment(rng: random.Random, quirky: bool) -> str:
    """HTML as feeds carry it; in a quirky feed, now and then markup feedparser's sanitizer
    treats its own way (script, comment, iframe), which the fast path declines."""
    kind = rng.random()
    w = words(rng, 3, 25)
    if quirky and kind < 0.3:
        return rng.choice(
            [
                f"<p>{w}</p><script>alert(1)</script>",
                f"<!-- note --><div>{w}</div>",
                f'<iframe src="https://x.ma/v"></iframe><span>{w}</span>',
            ]
        )
    if kind < 0.3:
        return w
    if kind < 0.5:
        return f"<p>{w}</p><p>{words(rng, 2, 12)}</p>"
    if kind < 0.6:
        anchor = f'<a href="/lien/{rng.randint(1, 99)}">{w}</a>'
        return f"<p>{anchor} <strong>{words(rng, 1, 3)}</strong></p>"
    if kind < 0.7:
        src = f"https://img.example.ma/{rng.randint(1, 999)}.jpg"
        return f'<figure><img src="{src}" alt="x"/><figcaption>{w}</figcaption></figure>{w}'
    if kind < 0.8:
        return f"<ul><li>{w}</li><li>{words(rng, 1, 5)}</li></ul><br/>fin&nbsp;&eacute;t&#233;"
    if kind < 0.9:
        return f"<h2>{w}</h2><blockquote>{words(rng, 2, 6)}</blockquote>"
    return f"<em>{w}</em>  \n  <br>{words(rng, 1, 4)}"


def date(rng: random.Random, base: datetime) -> tuple[str, str]:
    """(element, value): pubDate in many spellings, dc:date, French, or garbage."""
    when = base - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
    kind = rng.random()
    if kind < 0.45:
        return "pubDate", when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    if kind < 0.55:
        return "pubDate", when.strftime("%a, %d %b %Y %H:%M:%S GMT")
    if kind < 0.62:
        return "pubDate", when.strftime("%d %b %Y %H:%M +0100")
    if kind < 0.67:
        return "pubDate", when.strftime("%a, %d %b %y %H:%M:%S EST")
    if kind < 0.77:
        return "dc:date", when.strftime("%Y-%m-%dT%H:%M:%S+01:00")
    if kind < 0.83:
        day, month = DAYS_FR[when.weekday()], MONTHS_FR[when.month - 1]
        return "pubDate", f"{day} {when.day} {month} {when.year} {when:%H:%M}"
    if kind < 0.88:
        return "pubDate", f"  {when:%a, %d %b %Y %H:%M:%S} +0000  "
    if kind < 0.93:
        return "pubDate", rng.choice(["hier", "2025-13-45", "n/a", ""])
    return "", ""


def title(rng: random.Random, quirky: bool) -> str:
    value = words(rng, 1, 12)
    if rng.random() < 0.08:
        value = f"  {value}\n "
    if quirky and rng.random() < 0.1:  # markup in a title: declined
        value = f"{value} <b>x</b>"
    return f"<title>{text(value, rng)}</title>"


def link(rng: random.Random, n: int) -> str:
    kind = rng.random()
    if kind < 0.75:
        value = f"https://www.example.ma/actu/{n}-{rng.randint(1, 10**6)}"
        if rng.random() < 0.1:
            value += "?utm_source=rss&id=3"
        if rng.random() < 0.05:
            value = "HTTPS://WWW.Example.MA:443/actu/" + str(n)
    elif kind < 0.85:
        value = f"/actu/{n}"
    elif kind < 0.9:
        value = f"  https://www.example.ma/a/{n}  "
    else:
        return ""
    return f"<link>{escape(value)}</link>"


def guid(rng: random.Random, n: int, guids: list[str]) -> str:
    kind = rng.random()
    if kind < 0.3:
        return f"<guid>https://www.example.ma/?p={n}</guid>"
    if kind < 0.55:
        value = f"{n}-{rng.randint(1, 10**6)}"
        if guids and rng.random() < 0.05:
            value = rng.choice(guids)  # a guid shared by two entries
        guids.append(value)
        return f'<guid isPermaLink="false">{value}</guid>'
    if kind < 0.65:
        return f"<guid>tag:example.ma,2025:{n}</guid>"
    if kind < 0.68:
        return "<guid></guid>"
    return ""


def extras(rng: random.Random, n: int, quirky: bool) -> str:
    parts = []
    if rng.random() < 0.3:
        parts.append(f"<category>{text(words(rng, 1, 2), rng)}</category>")
    if rng.random() < 0.2:
        parts.append(f"<dc:creator>{text(words(rng, 1, 2), rng)}</dc:creator>")
    if rng.random() < 0.1:
        parts.append('<enclosure url="https://x.ma/a.mp3" length="1" type="audio/mpeg"/>')
    if rng.random() < 0.1:
        parts.append(f"<comments>https://www.example.ma/actu/{n}#comments</comments>")
    if quirky and rng.random() < 0.1:  # an element the fast path does not know: declined
        parts.append('<media:content url="https://x.ma/i.jpg" medium="image"/>')
    return "".join(parts)


def item(rng: random.Random, n: int, base: datetime, guids: list[str], quirky: bool) -> str:
    parts = ["<item>", title(rng, quirky) if rng.random() < 0.97 else ""]
    parts += [link(rng, n), guid(rng, n, guids)]
    summary = html_fragment(rng, quirky) if rng.random() < 0.92 else ""
    if summary or rng.random() < 0.5:
        parts.append(f"<description>{text(summary, rng)}</description>")
    if rng.random() < 0.3:
        extra = html_fragment(rng, quirky) + html_fragment(rng, quirky)
        content = summary if rng.random() < 0.3 else extra
        parts.append(f"<content:encoded>{text(content, rng)}</content:encoded>")
    element, value = date(rng, base)
    if element:
        parts.append(f"<{element}>{escape(value)}</{element}>")
    if element == "pubDate" and rng.random() < 0.1:  # both dates, the first maybe unreadable
        parts.append(f"<dc:date>{base:%Y-%m-%dT%H:%M:%SZ}</dc:date>")
    parts += [extras(rng, n, quirky), "</item>"]
    return "".join(parts)


def feed(seed: int) -> tuple[bytes, str | None]:
    """One RSS 2.0 document and its Content-Type."""
    rng = random.Random(seed)
    base = datetime(2025, 11, 15, 10, 0, tzinfo=UTC)
    declaration = rng.choice(
        ['<?xml version="1.0" encoding="UTF-8"?>\n', '<?xml version="1.0"?>', ""] * 6
        + ['<?xml version="1.0" encoding="ISO-8859-1"?>']
    )
    channel = [
        f"<title>{text(words(rng, 1, 4), rng)}</title><link>https://www.example.ma/</link>",
        f"<description>{escape(words(rng, 2, 8))}</description><language>fr</language>",
    ]
    if rng.random() < 0.5:
        channel.append('<atom:link href="https://www.example.ma/feed" rel="self"/>')
    guids: list[str] = []
    quirky = rng.random() < 0.2  # a feed with markup or elements only feedparser reads
    channel += [item(rng, n, base, guids, quirky) for n in range(rng.randint(1, 30))]
    inside = "".join(channel)
    body = f'{declaration}<rss version="2.0" {NAMESPACES}><channel>{inside}</channel></rss>'
    encoding = "iso-8859-1" if "ISO-8859-1" in declaration else "utf-8"
    data = body.encode(encoding, "xmlcharrefreplace")
    content_type = rng.choice(
        ["application/rss+xml; charset=utf-8", "application/rss+xml", "text/xml", None]
    )
    if encoding != "utf-8" and content_type and "charset" in content_type:
        content_type = "application/rss+xml"
    return data, content_type
