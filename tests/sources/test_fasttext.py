"""What the fast parse paths share (monitor.sources.fasttext): the one entry, which picks a path
by the document's root element and leaves every other document to feedparser; entity
references and entries feedparser finds where the fast paths do not look."""

from __future__ import annotations

import random
from html import escape

import pytest

from monitor.sources.fast import parse_fast
from tests.support.readalike import read_alike


def test_each_format_goes_to_its_path_and_others_to_feedparser() -> None:
    rss = b'<rss version="2.0"><channel><item><title>a</title></item></channel></rss>'
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>a</title></entry></feed>'
    rdf = (
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel><title>c</title></channel>'
        b'<item rdf:about="https://a.ma/1"><title>a</title></item></rdf:RDF>'
    )
    for body in (rss, atom, rdf):
        read = parse_fast(body, None)
        assert read is not None and read.entries[0]["title"] == "a"
    assert parse_fast(b'<rss version="0.91"><channel><item/></channel></rss>', None) is None
    assert parse_fast(b"<html><body>x</body></html>", None) is None
    assert parse_fast(b'<?xml version="1.0" encoding="ISO-8859-1"?><rss/>', None) is None


# entity references as feeds write them, the odd ones included: HTML 4 names with and without
# ";", HTML 5 names, unknown ones, prefixes HTML 5 reads without ";" (&copy2024, &centre,
# &notes), upper case, numeric ones, and an "&" that is text
REFERENCES = (
    "&amp;",
    "&eacute;",
    "&eacute",
    "&copy2024",
    "&centre",
    "&notes",
    "&check;",
    "&foo;",
    "&AMP;",
    "&AMP",
    "&apos;",
    "&nbsp2",
    "&#233;",
    "&#x27;",
    "&#146;",
    "S&P",
    "AT&T ",
    "Q&A",
    "&",
    "&lt;",
    "&lt",
    "&a.b;",
    "&-x",
)


def test_entity_references_read_as_feedparser_reads_them() -> None:
    """A title or an HTML text with references: the fast path gives feedparser's items, or
    declines (feedparser's sanitizer and html.unescape read some of them apart)."""
    rng = random.Random(20261206)
    read = 0
    for n in range(400):
        pieces = [rng.choice(REFERENCES) + rng.choice(" x;") for _ in range(rng.randint(1, 4))]
        text = escape("".join(pieces))
        item = f"<item><title>t{n} {text}</title><link>https://x.ma/{n}</link>"
        item += f"<description>&lt;p&gt;{text}&lt;/p&gt; {text}</description></item>"
        body = f'<rss version="2.0"><channel><title>c</title>{item}</channel></rss>'.encode()
        result = read_alike(body, None, "https://x.ma/feed")
        if result is not None:
            assert result[0] == result[1], text
            read += 1
    assert read >= 100  # the plain ones take the fast path


@pytest.mark.parametrize(
    "body",
    [
        # an item after the channel, in another element, an entry in an RSS document…
        b'<rss version="2.0"><channel><title>c</title><item><title>a</title></item></channel>'
        b"<item><title>y</title></item></rss>",
        b'<rss version="2.0"><channel><title>c</title><item><title>a</title></item>'
        b"<extra><item><title>x</title></item></extra></channel></rss>",
        b'<rss version="2.0"><channel><title>c</title><item><title>a</title></item>'
        b"<entry><title>x</title></entry></channel></rss>",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>a</title></entry>'
        b"<foo><entry><title>x</title></entry></foo></feed>",
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel><title>c</title></channel>'
        b'<image rdf:about="i"><item rdf:about="x"><title>x</title></item></image>'
        b'<item rdf:about="a"><title>a</title></item></rdf:RDF>',
    ],
    ids=["after-channel", "nested", "entry-in-rss", "nested-entry", "item-in-image"],
)
def test_an_entry_feedparser_finds_elsewhere_is_declined(body: bytes) -> None:
    assert parse_fast(body, None) is None
    assert read_alike(body, None, "https://x.ma/feed") is None
