"""The demo's outlets and their feeds as the CMS they imitate write them: WordPress's RSS 2.0
(namespaces, CDATA, ``&#8217;`` apostrophes, ``?p=N`` guids) and Jekyll's Atom (jekyll-feed)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape as html_escape
from importlib import resources
from xml.sax.saxutils import escape

import yaml

HEADLINES = "headlines.yaml"


@dataclass(frozen=True, slots=True)
class Headline:
    feed: str  # the outlet publishing it
    title: str
    summary: str
    rules: tuple[str, ...]  # what the example rules say of it (none: it must never alert)
    start: bool = False  # in the feed when the demo starts


@dataclass(frozen=True, slots=True)
class Post:
    headline: Headline
    number: int  # WordPress's post id, unique across the site
    published: datetime
    path: str  # of its page on the demo's server


Render = Callable[["Outlet", str, Sequence[Post], datetime], str]


@dataclass(frozen=True, slots=True)
class Outlet:
    name: str  # the source's name in the demo's configuration
    title: str
    description: str
    language: str
    feed_path: str
    render: Render
    author: str
    category: str = ""

    def post_path(self, number: int, published: datetime, slug: str) -> str:
        if self.render is jekyll_atom:
            return f"/{self.name}/{published:%Y/%m/%d}/{slug}.html"
        if slug:  # WordPress's "day and name" permalinks
            return f"/{self.name}/{published:%Y/%m/%d}/{slug}/"
        return f"/{self.name}/?p={number}"  # its plain ones (Arabic titles make no ASCII slug)


def load_headlines() -> list[Headline]:
    text = resources.files(__package__).joinpath(HEADLINES).read_text(encoding="utf-8")
    return [
        Headline(
            feed=entry["feed"],
            title=entry["title"],
            summary=entry["summary"],
            rules=tuple(entry["rules"]),
            start=bool(entry.get("start", False)),
        )
        for entry in yaml.safe_load(text)["headlines"]
    ]


def slug(title: str) -> str:
    """WordPress's slug of a title, ASCII: accents dropped, words joined by hyphens."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = "".join(c.lower() if c.isalnum() else " " for c in plain).split()
    return "-".join(words)[:80].rstrip("-")


def _texturized(text: str) -> str:
    """Escaped for XML, with WordPress's curly apostrophe (wptexturize) as an entity."""
    return escape(text).replace("'", "&#8217;")


def _rss_item(outlet: Outlet, base: str, post: Post) -> str:
    summary = post.headline.summary
    return f"""
	<item>
		<title>{_texturized(post.headline.title)}</title>
		<link>{escape(base + post.path)}</link>
		<dc:creator><![CDATA[{outlet.author}]]></dc:creator>
		<pubDate>{format_datetime(post.published)}</pubDate>
		<category><![CDATA[{outlet.category}]]></category>
		<guid isPermaLink="false">{escape(base)}/{outlet.name}/?p={post.number}</guid>
		<description><![CDATA[{summary} [&#8230;]]]></description>
		<content:encoded><![CDATA[<p>{html_escape(summary)}</p>]]></content:encoded>
	</item>"""


def wordpress_rss(outlet: Outlet, base: str, posts: Sequence[Post], now: datetime) -> str:
    site = f"{base}/{outlet.name}"
    built = posts[0].published if posts else now
    items = "".join(_rss_item(outlet, base, post) for post in posts)
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:wfw="http://wellformedweb.org/CommentAPI/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:atom="http://www.w3.org/2005/Atom"
	xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
	xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
	>

<channel>
	<title>{_texturized(outlet.title)}</title>
	<atom:link href="{escape(base + outlet.feed_path)}" rel="self" type="application/rss+xml" />
	<link>{escape(site)}</link>
	<description>{_texturized(outlet.description)}</description>
	<lastBuildDate>{format_datetime(built)}</lastBuildDate>
	<language>{outlet.language}</language>
	<sy:updatePeriod>hourly</sy:updatePeriod>
	<sy:updateFrequency>1</sy:updateFrequency>
	<generator>https://wordpress.org/?v=6.7.1</generator>{items}
	</channel>
</rss>
"""


def _atom_entry(base: str, post: Post, author: str) -> str:
    link, title = escape(base + post.path), post.headline.title
    html = f"<p>{html_escape(post.headline.summary, quote=False)}</p>"
    return (
        f'<entry><title type="html">{escape(title)}</title><link href="{link}" '
        f'rel="alternate" type="text/html" title="{escape(title, {chr(34): "&quot;"})}" />'
        f"<published>{post.published.isoformat()}</published>"
        f"<updated>{post.published.isoformat()}</updated><id>{link}</id>"
        f'<content type="html" xml:base="{link}">{escape(html)}</content>'
        f"<author><name>{escape(author)}</name></author>"
        f'<summary type="html">{escape(post.headline.summary)}</summary></entry>'
    )


def jekyll_atom(outlet: Outlet, base: str, posts: Sequence[Post], now: datetime) -> str:
    site, feed = f"{base}/{outlet.name}/", escape(base + outlet.feed_path)
    updated = (posts[0].published if posts else now).isoformat()
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
        f'xml:lang="{outlet.language}"><generator uri="https://jekyllrb.com/" version="4.3.4">'
        f'Jekyll</generator><link href="{feed}" rel="self" type="application/atom+xml" />'
        f'<link href="{escape(site)}" rel="alternate" type="text/html" '
        f'hreflang="{outlet.language}" /><updated>{updated}</updated><id>{feed}</id>'
        f'<title type="html">{escape(outlet.title)}</title>'
        f"<subtitle>{escape(outlet.description)}</subtitle>"
        + "".join(_atom_entry(base, post, outlet.author) for post in posts)
        + "</feed>\n"
    )


OUTLETS = (
    Outlet(
        "eco-du-jour",
        "L'Éco du Jour",
        "L'actualité économique du Maroc",
        "fr-FR",
        "/eco-du-jour/feed/",
        wordpress_rss,
        "Rédaction",
        "Économie",
    ),
    Outlet(
        "atlas-wire",
        "Atlas Business Wire",
        "Business news from Morocco, in English",
        "en",
        "/atlas-wire/feed.xml",
        jekyll_atom,
        "Newsdesk",
    ),
    Outlet(
        "akhbar-atlas",
        "أخبار الأطلس",
        "أخبار المغرب الاقتصادية",
        "ar",
        "/akhbar-atlas/feed/",
        wordpress_rss,
        "هيئة التحرير",
        "اقتصاد",
    ),
)
