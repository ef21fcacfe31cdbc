"""The RSS 1.0 fast path (monitor.sources.fastrdf) against feedparser, the parser of record: on
generated RSS 1.0 documents (the items of tests/support/feedgen.py, as RDF writes them: beside the
channel, named by rdf:about) and on the RSS 1.0 fixtures, every document the fast path reads
gives the same items and hub as feedparser; the others are left to feedparser."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.core.models import Item
from monitor.sources.fast import parse_fast
from monitor.sources.fastrdf import read_rdf
from monitor.sources.fasttext import document
from tests.support.feedgen import NAMESPACES, item
from tests.support.paths import DATA
from tests.support.readalike import generated_read_alike, read_alike

FEEDS = DATA / "feeds"
URL = "https://agence.example.ma/rss"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
GENERATED = 800


def rdf_feed(seed: int) -> bytes:
    """One RSS 1.0 document: feedgen's items, nearly all without a guid (RDF names them by
    rdf:about), some with a trailing blank in it (kept as written)."""
    rng = random.Random(seed)
    base = datetime(2025, 11, 15, 10, 0, tzinfo=UTC)
    quirky = rng.random() < 0.2
    items = []
    for n in range(rng.randint(1, 25)):
        body = item(rng, n, base, [], quirky)
        if rng.random() < 0.99:
            body = re.sub(r"<guid[^>]*>.*?</guid>", "", body)
        about = f"https://agence.example.ma/d/{n}" + (" " if rng.random() < 0.1 else "")
        attribute = f' rdf:about="{about}"' if rng.random() < 0.95 else ""
        items.append(body.replace("<item>", f"<item{attribute}>", 1))
    seq = "".join(f'<rdf:li rdf:resource="https://agence.example.ma/d/{n}"/>' for n in range(3))
    channel = (
        '<channel rdf:about="https://agence.example.ma/rss"><title>Agence</title>'
        "<link>https://agence.example.ma/</link><description>d</description>"
        f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>"
    )
    image = (
        '<image rdf:about="https://agence.example.ma/logo.png"><title>Agence</title>'
        "<url>https://agence.example.ma/logo.png</url><link>https://agence.example.ma/</link>"
        "</image>"
        if rng.random() < 0.3
        else ""
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rdf:RDF xmlns:rdf="{RDF}" '
        f'xmlns="http://purl.org/rss/1.0/" {NAMESPACES}>{channel}{image}{"".join(items)}'
        "</rdf:RDF>"
    ).encode()


def both(body: bytes, max_items: int | None = None) -> tuple[list[Item], list[Item]] | None:
    return read_alike(body, "application/rdf+xml", URL, max_items)


@pytest.mark.slow
def test_generated_rdf_feeds_read_alike() -> None:
    def typed(seed: int) -> tuple[bytes, str | None]:
        return rdf_feed(seed), "application/rdf+xml"

    compared, items = generated_read_alike(typed, URL, GENERATED)
    assert compared >= 500 and items >= 5_000, (compared, items)  # not vacuous


@pytest.mark.parametrize(
    "path", sorted(p for p in FEEDS.iterdir() if b"purl.org/rss/1.0/" in p.read_bytes()), ids=str
)
def test_every_rdf_fixture_reads_alike_or_is_left_to_feedparser(path: Path) -> None:
    result = both(path.read_bytes())
    if result is not None:
        assert result[0] == result[1]


def test_an_item_is_named_by_its_rdf_about() -> None:
    body = next(b for b in map(rdf_feed, range(50)) if parse_fast(b, None) is not None)
    root = document(body, None)
    assert root is not None
    read = read_rdf(root)
    assert read is not None and read.site == "https://agence.example.ma/"
    ids = [entry["id"] for entry in read.entries if "id" in entry]  # (some have no rdf:about)
    assert ids and all(i.startswith("https://agence.example.ma/d/") for i in ids)


@pytest.mark.parametrize(
    "inside",
    [
        '<item rdf:about="a" rdf:ID="b"><title>t</title></item>',  # another attribute
        '<item rdf:about="a"><guid>g</guid></item>',  # an identity beside rdf:about
        '<item rdf:about="a"><title xml:base="x">t</title></item>',
        "<other>o</other>",  # an element feedparser may read into the feed
        '<item rdf:about="a"><title>t</title></item><channel><title>c</title></channel>',
    ],
)
def test_what_feedparser_reads_its_own_way_is_declined(inside: str) -> None:
    body = (
        f'<rdf:RDF xmlns:rdf="{RDF}" xmlns="http://purl.org/rss/1.0/"><channel><title>c'
        f"</title></channel>{inside}</rdf:RDF>"
    ).encode()
    assert parse_fast(body, None) is None
