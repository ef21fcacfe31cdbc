"""The daemon's parse path against plain feedparser, document by document (issue 19 §2).

Usage: ``.venv/bin/python -m bench.differential DIR [--verbose]`` (DIR: a folder of feed
documents, searched recursively, such as ``../shared/corpus/feedparser-tests/``).

Every document is served over loopback HTTP (aiohttp on 127.0.0.1), with the headers its
opening comment names in ``Header: Name: value`` lines (feedparser's own test documents say
so: a charset, a Content-Location…; a document without them is served with no Content-Type),
and read through the daemon's real path: :class:`monitor.net.http.HttpClient` fetches it, a parse
worker (:class:`monitor.sources.parser.Parser`) parses it as a ``feed`` source and normalises
its items. Plain feedparser reads the same bytes with the same headers, unaltered, and its
entries go through the same reading and normalisation (monitor.sources.feed,
monitor.sources.normalize). Both lists of items are compared field by field: key, title, link, date,
summary and content (plain text, after the project's normalisation).

A document is counted as
- ``agree``: the same items (or both refuse it as not a feed), the fast path having read it;
- ``declined``: the same items, the fast path having left it to feedparser (it is then read
  by feedparser on both sides, through the safety of monitor.sources.feed);
- ``json``: a JSON Feed (not an XML document: plain feedparser does not read those; shown
  apart, not compared);
- ``differ``: anything else, printed with the fields that differ. The one difference allowed
  is a document that declares entities in its DOCTYPE: the daemon removes the declarations
  on purpose (monitor.sources.feed), so what feedparser expands from them is not read;
  such documents are listed by name and counted apart (``doctype``).

Exit status: 0 when no document differs beyond the allowed ones, 1 otherwise, 2 when DIR
holds no document.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import ipaddress
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, unquote

import feedparser

from monitor.config.sections import LimitsConfig, NetworkConfig
from monitor.core.errors import MonitorError, ParseError
from monitor.core.models import Fetched, Item
from monitor.net.http import HttpClient
from monitor.sources.fast import parse_fast
from monitor.sources.feed import is_json, read_feedparser_result
from monitor.sources.normalize import to_items
from monitor.sources.parser import Parser
from monitor.sources.registry import FEED

NOW = datetime(2030, 1, 1, tzinfo=UTC)  # later than any document's date: none is clamped
SOURCE = "differential"
FIELDS = ("key", "title", "link", "published", "summary", "content")
_COMMENT = re.compile(rb"<!--(.*?)-->", re.DOTALL)
_HEADER = re.compile(r"^Header:\s*([^:\s]+)\s*:[ \t]*(.*?)\s*$", re.MULTILINE)
_DECLARED_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".json")


def headers_of(body: bytes) -> list[tuple[str, str]]:
    """The ``Header: Name: value`` lines of the document's opening comment (the first comment
    of its first 4 KB), read in any byte-wide or UTF-16/32 encoding (NUL bytes dropped)."""
    head = body[:4096].replace(b"\x00", b"")
    found = _COMMENT.search(head)
    if found is None:
        return []
    text = found.group(1).decode("latin-1")
    return [(name, value) for name, value in _HEADER.findall(text)]


def documents(folder: Path) -> list[str]:
    """The documents under ``folder``, as paths relative to it."""
    found = (p for p in folder.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
    return sorted(p.relative_to(folder).as_posix() for p in found)


@dataclass
class Outcome:
    """What one path made of a document: its items, or the error that refused it."""

    items: list[Item] = field(default_factory=list)
    error: str | None = None

    def rows(self) -> list[tuple[object, ...]]:
        return [tuple(getattr(i, f) for f in FIELDS) for i in self.items]


@dataclass
class Compared:
    name: str
    verdict: str  # agree | declined | json | doctype | differ
    differences: list[str] = field(default_factory=list)
    refused: str | None = None  # the side that alone refused it, and why


def plain_feedparser(fetched: Fetched, max_items: int) -> Outcome:
    """Plain feedparser on the bytes as they came, with the Content-Type they came with."""
    headers = {"content-type": fetched.content_type} if fetched.content_type else {}
    try:
        result = feedparser.parse(io.BytesIO(fetched.body), response_headers=headers)
        parsed = read_feedparser_result(result, fetched.url, max_items)
    except ParseError as exc:
        return Outcome(error=str(exc))
    return Outcome(to_items(SOURCE, parsed.entries, NOW))


async def daemon_path(http: HttpClient, parser: Parser, url: str) -> tuple[Fetched, Outcome]:
    """The document fetched and parsed as the daemon polls a ``feed`` source."""
    fetched = await http.get(url)
    try:
        read = await parser.parse(FEED, fetched, SOURCE, NOW)
    except MonitorError as exc:
        return fetched, Outcome(error=str(exc))
    return fetched, Outcome(read.items)


def differences(daemon: Outcome, reference: Outcome) -> list[str]:
    """Each way the daemon's items differ from feedparser's, one line each. A document one
    side refuses (not a feed) has no items on that side."""
    found: list[str] = []
    ours, theirs = daemon.rows(), reference.rows()
    if len(ours) != len(theirs):
        found.append(f"items: daemon {len(ours)}, feedparser {len(theirs)}")
    for n, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        for name, x, y in zip(FIELDS, a, b, strict=True):
            if x != y:
                found.append(f"item {n} {name}: daemon {x!r}, feedparser {y!r}")
    return found


def refusal(daemon: Outcome, reference: Outcome) -> str | None:
    """Which side alone refused the document as not a feed, and why; None when neither or
    both did."""
    if daemon.error is not None and reference.error is None:
        return f"the daemon: {daemon.error}"
    if reference.error is not None and daemon.error is None:
        return f"feedparser: {reference.error}"
    return None


def verdict(fetched: Fetched, found: list[str], max_items: int) -> str:
    if is_json(fetched.body, fetched.content_type):
        return "json"
    if found:
        return "doctype" if _DECLARED_ENTITY.search(fetched.body) else "differ"
    fast = parse_fast(fetched.body, fetched.content_type, max_items) is not None
    return "agree" if fast else "declined"


class Server:
    """The documents of one folder over loopback HTTP/1.1, each at its path under the folder.

    A bare asyncio server rather than aiohttp's: aiohttp adds ``Content-Type:
    application/octet-stream`` to any answer without one, and a document that names no
    Content-Type must come without one (as a file does), not as a type feedparser reads in its
    own way. One request per connection."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server: asyncio.Server | None = None
        self.url = ""

    def answer(self, target: str) -> bytes:
        path = (self.folder / unquote(target.lstrip("/"))).resolve()
        if not path.is_relative_to(self.folder) or not path.is_file():
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        body = path.read_bytes()
        lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers_of(body)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("latin-1")
            writer.write(self.answer(target))
            await writer.drain()
        except (asyncio.IncompleteReadError, IndexError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def compare(folder: Path, names: Sequence[str], workers: int = 1) -> list[Compared]:
    """Each document of ``names`` (paths relative to ``folder``, absolute) through both
    paths, compared."""
    limits = LimitsConfig(parse_workers=workers)
    network = NetworkConfig(allow=[ipaddress.ip_network("127.0.0.0/8")])
    results: list[Compared] = []
    async with Server(folder) as server, HttpClient(network) as http, Parser(limits) as parser:
        for name in names:
            fetched, ours = await daemon_path(http, parser, f"{server.url}/{quote(name)}")
            theirs = await asyncio.to_thread(plain_feedparser, fetched, limits.max_items)
            found = differences(ours, theirs)
            judged = verdict(fetched, found, limits.max_items)
            results.append(Compared(name, judged, found, refusal(ours, theirs)))
    return results


def report(results: Sequence[Compared], verbose: bool, out: io.TextIOBase | None = None) -> int:
    """Prints the counts, the allowed exceptions and every difference; the exit status."""
    write = (out or sys.stdout).write
    counts = Counter(r.verdict for r in results)
    for compared in results:
        if compared.verdict == "differ" or (verbose and compared.differences):
            write(f"{compared.verdict}: {compared.name}\n")
            for line in compared.differences:
                write(f"    {line}\n")
    refused = [r for r in results if r.refused and r.verdict in ("agree", "declined")]
    if refused:
        write("refused by one side alone, with no items on the other (no item differs):\n")
        for compared in refused:
            write(f"    {compared.name}: {compared.refused}\n")
    doctype = [r.name for r in results if r.verdict == "doctype"]
    if doctype:
        write("allowed (entities declared in a DOCTYPE, removed on purpose):\n")
        for name in doctype:
            write(f"    {name}\n")
    parts = [f"{counts[v]} {v}" for v in ("agree", "declined", "differ", "doctype", "json")]
    write(f"{len(results)} documents: {', '.join(parts)}\n")
    if not results:
        return 2
    return 1 if counts["differ"] else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.differential", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--verbose", action="store_true", help="also the allowed differences")
    args = parser.parse_args(argv)
    folder = args.folder.resolve()
    results = asyncio.run(compare(folder, documents(folder)))
    return report(results, args.verbose)


if __name__ == "__main__":
    raise SystemExit(main())
