"""What the fast parse paths share (monitor.sources.fasttext): the one entry, which picks a path
by the document's root element and leaves every other document to feedparser."""

from __future__ import annotations

from monitor.sources.fasttext import parse_fast


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
