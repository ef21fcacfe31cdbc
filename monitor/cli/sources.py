"""``monitor sources``: the configured sources (the main file's and its ``sources_file``'s),
one line each, or ``--opml`` as an OPML 2.0 file that feed readers import and that reads
back as a ``sources_file`` with the same names and URLs.

URLs are shown redacted, as everywhere (monitor.core.redact): a secret in one (credentials, a
``?token=``, a ``${VAR}`` value) is written ``***``, in the OPML file too.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from xml.sax.saxutils import quoteattr

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.core.errors import ConfigError
from monitor.core.redact import printable, redact_url
from monitor.core.units import format_duration


def _url(source: SourceConfig) -> str:
    return printable(redact_url(source.url))


def source_lines(config: Config, sources: Sequence[SourceConfig] | None = None) -> list[str]:
    """One line per source (``sources``, else the configuration's): name, kind, URL, interval
    and tags, in aligned columns."""
    rows = [
        (
            source.name,
            source.kind,
            _url(source),
            format_duration(config.interval_of(source)),
            printable(",".join(source.tags)) or "-",
        )
        for source in (config.sources if sources is None else sources)
    ]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(4)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True))
        + f"  {row[4]}"
        for row in rows
    ]


def _feed(source: SourceConfig, indent: str) -> str:
    name = quoteattr(source.name)
    attributes = f'type="rss" text={name} title={name} xmlUrl={quoteattr(_url(source))}'
    if source.tags:  # every tag, the folder's first: they all read back
        categories = ",".join("/" + printable(tag).replace(",", " ") for tag in source.tags)
        attributes += f" category={quoteattr(categories)}"
    return f"{indent}<outline {attributes}/>"


def opml(config: Config) -> str:
    """The sources as OPML 2.0: in a folder named by their first tag, or at the top."""
    folders: dict[str | None, list[SourceConfig]] = {}
    for source in config.sources:
        folders.setdefault(source.tags[0] if source.tags else None, []).append(source)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        "    <title>monitor sources</title>",
        "  </head>",
        "  <body>",
    ]
    for folder, sources in folders.items():
        if folder is None:
            lines += [_feed(source, "    ") for source in sources]
            continue
        title = quoteattr(printable(folder))
        lines.append(f"    <outline text={title} title={title}>")
        lines += [_feed(source, "      ") for source in sources]
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"


async def stored_lines(config: Config) -> int:
    """``monitor sources`` in store mode: the store's sources, a page at a time (the columns
    aligned within each page); how many."""
    from monitor.store import open_reader
    from monitor.store.catalog import stored_pages
    from monitor.store.definitions import Definitions

    engine = await open_reader(config.storage)
    count = 0
    try:
        async for page in stored_pages(Definitions(engine)):
            print("\n".join(source_lines(config, page)))
            count += len(page)
    finally:
        await engine.dispose()
    if not count:
        print("no sources")
    return 0


def sources_command(config: Config, as_opml: bool) -> int:
    if config.sources_from == "store":
        if as_opml:
            print("monitor: --opml: the sources are in the store (sources_from: store); "
                  "their file is sources_file", file=sys.stderr)  # fmt: skip
            return 2
        import asyncio

        return asyncio.run(stored_lines(config))
    if as_opml:
        sys.stdout.write(opml(config))
        hidden = [s.name for s in config.sources if redact_url(s.url) != s.url]
        if hidden:  # said where the file is not: the OPML file would not read it
            names = ", ".join(hidden)
            print(f"monitor: secrets in the URLs of {names} written as ***", file=sys.stderr)
    elif config.sources:
        print("\n".join(source_lines(config)))
    else:
        print("no sources")
    return 0


_SAID = {
    "added": "added",
    "changed": "changed (started afresh: another URL or kind)",
    "updated": "given new settings",
    "back": "back",
    "removed": "removed",
    "unchanged": "unchanged",
}


def _refused(error: ConfigError, said: str) -> int:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(said, file=sys.stderr)
    return 2


async def load_command(config: Config, file: str | None, path: str) -> int:
    """``monitor sources load [FILE]``: check every source of the sources file (FILE, else
    the configuration's ``sources_file``) as ``monitor check`` would, and only if all are
    right write them into the store (``sources_from: store``), saying what changed."""
    from monitor.config.load import checked_sources_file, sources_file_definitions
    from monitor.core.clock import utcnow
    from monitor.store import open_engine
    from monitor.store.definitions import Definitions
    from monitor.store.first_polls import first_due, spread_window
    from monitor.store.push import PushStore

    if config.sources_from != "store":
        print(f"{path}: sources_from: store is not set: the daemons read the sources from "
              "the configuration, not from the store", file=sys.stderr)  # fmt: skip
        return 2
    name = file or config.sources_file
    if name is None:
        print(f"{path}: name the file (monitor sources load FILE) or set sources_file",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        checked = checked_sources_file(name)
    except ConfigError as exc:
        return _refused(exc, f"{name}: nothing written")
    engine = await open_engine(config.storage)
    try:  # read again a batch at a time as it is written: no model kept past its batch
        definitions, now = Definitions(engine), utcnow()
        # a bulk of new sources is first polled over a window (monitor.store.first_polls),
        # sized by the names the store does not hold yet
        fresh = await definitions.new_among(checked.names)
        window = spread_window(fresh, config.defaults.interval)

        def due(source: SourceConfig, written: datetime) -> datetime:
            # from when its batch is written, not from the load's start: a source written
            # minutes into a long load is not overdue at once
            return first_due(source.name, written, min(window, config.interval_of(source)))

        batches = sources_file_definitions(name)
        changes = await definitions.load_batches(batches, now, checked.unchanged, due, clock=utcnow)
        # the hubs of the sources removed are asked to stop at the daemons' next renewal
        await PushStore(engine).keep_defined(now)
    except ConfigError as exc:
        said = f"{name}: changed during the load: some sources written, none removed; load again"
        return _refused(exc, said)
    finally:
        await engine.dispose()
    for kind, words in _SAID.items():
        done = changes.counts.get(kind, 0)
        if not done:
            continue
        shown = changes.shown.get(kind, [])
        more = f", +{done - len(shown)} more" if done > len(shown) else ""
        names = f": {', '.join(shown)}{more}" if shown else ""
        print(f"{done} {words}{names}")
    if changes.stopped:
        print(f"{name}: changed since it was checked: its sources written, none removed; "
              "load again", file=sys.stderr)  # fmt: skip
        return 2
    print(f"{name}: {checked.count} sources in the store")
    return 0
