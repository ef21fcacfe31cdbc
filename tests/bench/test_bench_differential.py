"""bench/differential.py, the daemon's parse path against plain feedparser document by
document (issue 19 §2): on generated documents served over loopback HTTP, with and without the
headers their opening comment names, nothing differs but what the daemon removes on purpose;
a difference is reported with its fields; and on feedparser's own test documents, where they
are (../shared/corpus/feedparser-tests/), nothing differs either."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bench.differential import (
    Compared,
    Outcome,
    compare,
    differences,
    documents,
    headers_of,
    report,
)
from monitor.core.models import Item
from tests.support.feedgen import feed
from tests.support.oddfeeds import odd_feed
from tests.support.paths import ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "feedparser-tests"

RSS = '<rss version="2.0"><channel><item><title>{}</title><link>https://x.ma/1</link></item>'
HEADED = (
    '<?xml version="1.0" encoding="iso-8859-1"?>\n<!--\n'
    "Header:      Content-type: application/rss+xml; charset=windows-1252\n"
    "Description: the charset of the header wins\n-->\n" + RSS + "</channel></rss>"
)
ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY t "Savage Love">]>'
    + RSS.format("&t;")
    + "</channel></rss>"
)
ATOM = (
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>f</title><entry><title>DÃ©marchage'
    '</title><link href="/a/1"/><id>tag:x.ma,2025:1</id></entry></feed>'
)


def write_documents(folder: Path) -> None:
    for seed in range(12):
        body, _ = odd_feed(seed)
        (folder / f"odd-{seed}.xml").write_bytes(body)
    for seed in range(4):
        (folder / f"plain-{seed}.xml").write_bytes(feed(seed)[0])
    (folder / "sub").mkdir()
    # windows-1252 named by the header, the C1 apostrophe a byte of it
    (folder / "sub" / "headed.xml").write_bytes(HEADED.format("centres d’appels").encode("cp1252"))
    (folder / "entity.xml").write_text(ENTITY)
    (folder / "atom.xml").write_text(ATOM)
    (folder / "feed.json").write_text(
        '{"version": "https://jsonfeed.org/version/1.1", "items": []}'
    )


async def test_generated_documents_read_alike_over_http(tmp_path: Path) -> None:
    write_documents(tmp_path)
    names = documents(tmp_path)
    assert "sub/headed.xml" in names and len(names) == 20
    results = await compare(tmp_path, names)
    verdicts = {r.name: r.verdict for r in results}
    assert [r for r in results if r.verdict == "differ"] == []
    assert verdicts["entity.xml"] == "doctype"  # feedparser expands &t;, the daemon does not
    assert verdicts["feed.json"] == "json"
    assert verdicts["sub/headed.xml"] == "declined"  # windows-1252: feedparser's alone
    assert verdicts["atom.xml"] == "agree"  # the Atom fast path, its title repaired
    assert list(verdicts.values()).count("agree") >= 6  # the fast path read most RSS here

    out = io.StringIO()
    assert report(results, verbose=False, out=out) == 0
    text = out.getvalue()
    assert "allowed (entities declared in a DOCTYPE, removed on purpose):\n    entity.xml\n" in text
    agree = sum(v == "agree" for v in verdicts.values())
    last = f"20 documents: {agree} agree, {18 - agree} declined, 0 differ, 1 doctype, 1 json"
    assert text.splitlines()[-1] == last


def test_the_headers_of_the_opening_comment_are_read_in_any_encoding() -> None:
    body = HEADED.format("t")
    assert headers_of(body.encode()) == [
        ("Content-type", "application/rss+xml; charset=windows-1252")
    ]
    assert headers_of(("\ufeff" + body).encode("utf-16-le")) == headers_of(body.encode())
    blank = "<!--\nHeader:      Last-Modified:\nDescription: x\n-->\n<rss/>"
    assert headers_of(blank.encode()) == [("Last-Modified", "")]
    assert headers_of(b"<rss/><!--\nHeader: X-Foo: bar\n-->") == [("X-Foo", "bar")]
    assert headers_of(b"<rss/>") == []


def item(title: str) -> Item:
    return Item("s", "l:https://x.ma/1", "https://x.ma/1", title, "", "", None)


def test_a_difference_is_reported_with_its_fields() -> None:
    ours, theirs = Outcome([item("DÃ©marchage")]), Outcome([item("Démarchage")])
    found = differences(ours, theirs)
    assert found == ["item 0 title: daemon 'DÃ©marchage', feedparser 'Démarchage'"]
    assert differences(Outcome(error="not a feed"), Outcome()) == []  # no items either way
    assert differences(Outcome(error="not a feed"), theirs) == ["items: daemon 0, feedparser 1"]
    out = io.StringIO()
    assert report([Compared("a.xml", "differ", found)], verbose=False, out=out) == 1
    assert out.getvalue().startswith("differ: a.xml\n    item 0 title: daemon 'DÃ©marchage'")
    assert report([], verbose=False, out=io.StringIO()) == 2


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="feedparser's test documents are not here")
async def test_feedparsers_own_documents_read_alike() -> None:
    results = await compare(CORPUS, documents(CORPUS))
    assert len(results) > 2000
    assert [(r.name, r.differences) for r in results if r.verdict == "differ"] == []
    assert [r.name for r in results if r.verdict == "doctype"] == [
        "wellformed/rss/entity_in_doctype.xml"
    ]
