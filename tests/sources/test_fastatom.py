"""The Atom fast path (monitor.sources.fastatom) against feedparser, the parser of record: on
generated Atom documents (tests/support/atomgen.py) and on the Atom fixtures, every document the
fast path reads gives the same items (identity, title, link, date, text) and the same hub as
feedparser; the others are left to feedparser."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core.models import Item
from monitor.sources.fast import parse_fast
from tests.support.atomgen import feed
from tests.support.paths import DATA
from tests.support.readalike import generated_read_alike, read_alike

FEEDS = DATA / "feeds"
URL = "https://blog.example.ma/atom.xml"
GENERATED = 1500


def both(
    body: bytes, content_type: str | None, max_items: int | None = None
) -> tuple[list[Item], list[Item]] | None:
    return read_alike(body, content_type, URL, max_items)


@pytest.mark.slow
def test_generated_atom_feeds_read_alike() -> None:
    compared, items = generated_read_alike(feed, URL, GENERATED)
    # the comparison is not vacuous: most documents take the fast path
    assert compared >= 1000 and items >= 8_000, (compared, items)


@pytest.mark.parametrize(
    "path", sorted(p for p in FEEDS.iterdir() if b"2005/Atom" in p.read_bytes()), ids=str
)
def test_every_atom_fixture_reads_alike_or_is_left_to_feedparser(path: Path) -> None:
    result = both(path.read_bytes(), None)
    if result is not None:
        fast, reference = result
        assert fast == reference


def test_the_fast_path_reads_the_common_atom_feed() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Blog</title><id>https://b.ma/</id>"
        '<link rel="hub" href="https://hub.example/"/><link rel="self" href="https://b.ma/a"/>'
        "<entry><title>Les centres d\u2019appels et l\u2019IA</title>"
        '<link href="https://b.ma/1"/><id>tag:b.ma,2026:1</id>'
        "<published>2026-11-30T08:00:00Z</published><author><name>A</name></author>"
        '<category term="eco"/><summary type="html">&lt;p&gt;Le &lt;em&gt;d\u00e9marchage'
        "&lt;/em&gt;&lt;/p&gt;</summary></entry>"
        "<entry><title>DÃ©marchage</title><id>tag:b.ma,2026:2</id></entry></feed>"
    ).encode()
    found = parse_fast(body, "application/atom+xml")
    assert found is not None
    entries, total, links, site = found
    assert total == 2 and site == "https://b.ma/"  # (no alternate link: its id)
    assert links == [("hub", "https://hub.example/"), ("self", "https://b.ma/a")]
    assert entries[0]["link"] == "https://b.ma/1" and entries[0]["id"] == "tag:b.ma,2026:1"
    assert entries[1]["title"] == "Démarchage"  # UTF-8 encoded twice, repaired as feedparser
    assert both(body, "application/atom+xml") is not None


@pytest.mark.parametrize(
    "entry",
    [
        '<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></title>'
        "</entry>",
        "<entry><title>a</title><title>b</title></entry>",
        '<entry><content src="https://b.ma/x"/></entry>',
        "<entry><content>a</content><summary>b</summary></entry>",
        "<entry><source><title>Autre</title></source></entry>",
        '<entry><title type="html">a &lt;blink&gt;b&lt;/blink&gt;</title></entry>',
        '<entry><link href="https://b.ma/1">texte</link></entry>',
        '<entry><summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div>'
        "</summary></entry>",
        '<entry xml:base="https://b.ma/"><link href="x"/></entry>',
    ],
)
def test_what_feedparser_reads_its_own_way_is_declined(entry: str) -> None:
    body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>{entry}</feed>'.encode()
    assert parse_fast(body, None) is None
