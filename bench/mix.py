"""Feeds as real publishers write them, for the benchmarks of issue 19: a mix of formats instead
of the plain RSS of tests.support.peers.rss.

Feed ``n`` is, by ``n % 20``: RSS 2.0 as WordPress writes it (0-10, 55 %: content:encoded,
dc:creator, two categories, a permalink-less guid, comments, wfw and slash elements, HTML with
``<p>``, ``<img>``, ``<em>``), Atom 1.0 as Blogger, Hugo or a news CMS writes it (11-16, 30 %:
author, ``category term=``, ``summary type="html"``, ``content type="html"``, published and
updated), RSS 1.0 (RDF) with Dublin Core (17-18, 10 %), and JSON Feed 1.1 (19, 5 %).

Titles and summaries cycle through the headlines of tests/data/headlines-languages.yaml
(Moroccan, French, Spanish and Gulf press in seven languages, a few of them about the user's
topics), numbered so every item is its own story.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from html import escape
from pathlib import Path

import yaml

HEADLINES = Path(__file__).parent.parent / "tests" / "data" / "headlines-languages.yaml"
# the formats by n % 20, and their share of the mix
FORMATS = ("rss2",) * 11 + ("atom",) * 6 + ("rss1",) * 2 + ("json",)
CONTENT_TYPES = {
    "rss2": "application/rss+xml; charset=UTF-8",
    "atom": "application/atom+xml; charset=utf-8",
    "rss1": "application/rdf+xml",
    "json": "application/feed+json",
}


def kind(n: int) -> str:
    return FORMATS[n % len(FORMATS)]


def shares() -> dict[str, float]:
    return {k: FORMATS.count(k) / len(FORMATS) for k in CONTENT_TYPES}


@cache
def headlines() -> list[tuple[str, str]]:
    """(title, summary) of the labelled headlines, plain text."""
    data = yaml.safe_load(HEADLINES.read_text(encoding="utf-8"))
    return [(str(i["text"]), str(i.get("summary") or "")) for i in data]


def _story(n: int, k: int) -> tuple[str, str, str]:
    """Title, HTML summary and HTML content of item ``k`` of feed ``n``."""
    pool = headlines()
    title, summary = pool[(n * 7 + k) % len(pool)]
    title = f"{title} ({n}-{k})"
    lead = f"<p><em>{escape(summary)}</em> Dépêche {k} du site {n}.</p>"
    body = (
        f'<p><img src="https://cdn.site{n}.ma/wp-content/uploads/2026/11/{k}.jpg" alt="" '
        f'width="800" height="450" /></p>{lead}<p>Selon nos informations, le secteur de la '
        "relation client suit de près l'évolution du cadre légal. "
        f'<a href="https://site{n}.ma/tag/economie/">Économie</a></p>'
    )
    return title, lead, body


def _rfc822(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _rss2(n: int, items: list[tuple[int, datetime]]) -> str:
    site = f"https://site{n}.ma"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"\n'
        '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
        '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
        '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '\txmlns:atom="http://www.w3.org/2005/Atom"\n'
        '\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"\n'
        '\txmlns:slash="http://purl.org/rss/1.0/modules/slash/"\n\t>\n\n<channel>\n'
        f"\t<title>Site {n} \u2013 Actualité économique</title>\n"
        f'\t<atom:link href="{site}/feed/" rel="self" type="application/rss+xml" />\n'
        f"\t<link>{site}</link>\n\t<description>L&#039;info éco du Maroc</description>\n"
        f"\t<lastBuildDate>{_rfc822(items[0][1])}</lastBuildDate>\n"
        "\t<language>fr-FR</language>\n\t<sy:updatePeriod>\n\thourly\t</sy:updatePeriod>\n"
        "\t<sy:updateFrequency>\n\t1\t</sy:updateFrequency>\n"
        "\t<generator>https://wordpress.org/?v=6.4.2</generator>\n"
    ]
    for k, when in items:
        title, lead, body = _story(n, k)
        link = f"{site}/{when:%Y/%m/%d}/article-{k}/"
        parts.append(
            f"\t<item>\n\t\t<title>{escape(title, quote=False)}</title>\n"
            f"\t\t<link>{link}</link>\n\t\t<comments>{link}#respond</comments>\n"
            f"\t\t<dc:creator><![CDATA[Rédaction {n % 5}]]></dc:creator>\n"
            f"\t\t<pubDate>{_rfc822(when)}</pubDate>\n"
            "\t\t<category><![CDATA[Economie]]></category>\n"
            f"\t\t<category><![CDATA[Rubrique {k % 4}]]></category>\n"
            f'\t\t<guid isPermaLink="false">{site}/?p={1000 + k}</guid>\n'
            f"\t\t<description><![CDATA[{lead}]]></description>\n"
            f"\t\t<content:encoded><![CDATA[{body}]]></content:encoded>\n"
            f"\t\t<wfw:commentRss>{link}feed/</wfw:commentRss>\n"
            "\t\t<slash:comments>0</slash:comments>\n\t</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def _atom(n: int, items: list[tuple[int, datetime]]) -> str:
    site = f"https://blog{n}.ma"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">\n'
        f"  <title>Blog {n}</title>\n  <subtitle>Veille et relation client</subtitle>\n"
        f'  <link href="{site}/" rel="alternate" type="text/html"/>\n'
        f'  <link href="{site}/atom.xml" rel="self" type="application/atom+xml"/>\n'
        f"  <id>{site}/</id>\n  <updated>{_iso(items[0][1])}</updated>\n"
        '  <generator uri="https://gohugo.io/" version="0.121.1">Hugo</generator>\n'
    ]
    for k, when in items:
        title, lead, body = _story(n, k)
        link = f"{site}/posts/{when:%Y-%m}/billet-{k}/"
        parts.append(
            f"  <entry>\n    <title>{escape(title, quote=False)}</title>\n"
            f'    <link href="{link}" rel="alternate" type="text/html"/>\n'
            f"    <id>tag:blog{n}.ma,2026:post-{k}</id>\n"
            f"    <published>{_iso(when)}</published>\n"
            f"    <updated>{_iso(when + timedelta(minutes=5))}</updated>\n"
            f"    <author>\n      <name>Auteur {n % 7}</name>\n"
            f"      <uri>{site}/auteurs/{n % 7}/</uri>\n    </author>\n"
            '    <category term="economie" label="Économie"/>\n'
            f'    <category term="rubrique-{k % 4}"/>\n'
            f'    <summary type="html">{escape(lead)}</summary>\n'
            f'    <content type="html">{escape(body)}</content>\n  </entry>\n'
        )
    parts.append("</feed>\n")
    return "".join(parts)


def _rss1(n: int, items: list[tuple[int, datetime]]) -> str:
    site = f"https://agence{n}.ma"
    links = [f"{site}/depeche/{k}" for k, _ in items]
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
        '  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f'<channel rdf:about="{site}/rss">\n  <title>Agence {n}</title>\n'
        f"  <link>{site}/</link>\n  <description>Dépêches</description>\n"
        f"  <dc:date>{_iso(items[0][1])}</dc:date>\n  <items>\n    <rdf:Seq>\n"
        + "".join(f'      <rdf:li rdf:resource="{link}"/>\n' for link in links)
        + "    </rdf:Seq>\n  </items>\n</channel>\n"
    ]
    for (k, when), link in zip(items, links, strict=True):
        title, lead, _ = _story(n, k)
        parts.append(
            f'<item rdf:about="{link}">\n  <title>{escape(title, quote=False)}</title>\n'
            f"  <link>{link}</link>\n  <description>{escape(lead)}</description>\n"
            f"  <dc:date>{_iso(when)}</dc:date>\n  <dc:creator>Agence {n}</dc:creator>\n"
            "  <dc:subject>Économie</dc:subject>\n</item>\n"
        )
    parts.append("</rdf:RDF>\n")
    return "".join(parts)


def _json(n: int, items: list[tuple[int, datetime]]) -> str:
    site = f"https://media{n}.ma"
    entries = []
    for k, when in items:
        title, lead, body = _story(n, k)
        entries.append(
            {
                "id": f"{site}/a/{k}",
                "url": f"{site}/a/{k}",
                "title": title,
                "summary": lead,
                "content_html": body,
                "date_published": _iso(when),
                "authors": [{"name": f"Rédaction {n % 3}"}],
                "tags": ["économie", f"rubrique-{k % 4}"],
            }
        )
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": f"Média {n}",
        "home_page_url": f"{site}/",
        "feed_url": f"{site}/feed.json",
        "language": "fr",
        "items": entries,
    }
    return json.dumps(feed, ensure_ascii=False, indent=1)


WRITERS = {"rss2": _rss2, "atom": _atom, "rss1": _rss1, "json": _json}


def document(n: int, newest: int, count: int, now: datetime) -> tuple[bytes, str]:
    """Feed ``n`` holding items ``newest`` down to ``newest - count + 1``, newest first, the
    newest published at ``now`` and each earlier one a minute before; and its Content-Type."""
    items = [(k, now - timedelta(minutes=newest - k)) for k in range(newest, newest - count, -1)]
    name = kind(n)
    return WRITERS[name](n, items).encode(), CONTENT_TYPES[name]


if __name__ == "__main__":  # a look at one feed of each format
    for n in (0, 11, 17, 19):
        body, content_type = document(n, 2, 2, datetime.now(UTC))
        print(f"--- feed {n}: {kind(n)} ({content_type}), {len(body)} bytes\n{body.decode()}")
