"""What ``monitor test-rule SOURCE`` reads: a configured source, named (or given by its URL),
read as the daemon reads it (monitor.poll.peek); any other URL, fetched and read as a feed; or
a local feed file."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from yarl import URL

from monitor.config.model import Config
from monitor.config.sources import SourceConfig
from monitor.config.suggest import suggestion
from monitor.core.clock import Clock
from monitor.core.errors import SourceError
from monitor.core.models import Entry, Item
from monitor.net.http import HttpClient
from monitor.poll.peek import peek
from monitor.sources.normalize import to_items
from monitor.sources.registry import FEED, Parser, parse_file, parse_off_loop


@dataclass(frozen=True, slots=True)
class Found:
    """The items read, and the configured source they are of (None: a URL or a file)."""

    items: list[Item]
    source: SourceConfig | None = None


def configured(config: Config, given: str) -> SourceConfig | None:
    """The source named ``given``, else the first whose URL it is."""
    by_name = {source.name: source for source in config.sources}
    if given in by_name:
        return by_name[given]
    return next((source for source in config.sources if source.url == given), None)


def _web(given: str) -> bool:
    return given.startswith(("http://", "https://"))


async def stored(config: Config, given: str) -> SourceConfig | None:
    """Store mode: the source named ``given`` as the store defines it (by name only: no
    index finds a source by its URL among a million)."""
    from monitor.store import open_reader
    from monitor.store.catalog import StoredSources
    from monitor.store.definitions import Definitions

    engine = await open_reader(config.storage)
    try:
        return (await StoredSources(Definitions(engine)).fetch([given])).get(given)
    finally:
        await engine.dispose()


async def read_source(config: Config, given: str, clock: Clock) -> Found:
    """SourceError, its message starting with ``cannot read``, when ``given`` cannot be read."""
    source = configured(config, given)
    if source is None and config.sources_from == "store" and not _web(given):
        source = await stored(config, given)  # (before a file of that name)
    try:
        if source is not None:
            async with HttpClient(config.network, clock=clock) as http:
                async with Parser(config.limits) as parser:  # as the daemon's: its limits
                    return Found(await peek(config, source, http, parser, clock()), source)
        entries = await _entries(config, given, clock)
    except (OSError, SourceError) as exc:
        message = str(exc)
        if not message.startswith("cannot read"):
            message = f"cannot read {given}: {message}"
        raise SourceError(message) from exc
    return Found(to_items("test-rule", entries, clock()))


async def _entries(config: Config, given: str, clock: Clock) -> list[Entry]:
    if _web(given):
        async with HttpClient(config.network, clock=clock) as http:
            return await parse_off_loop(FEED, await http.get(given))
    names = [source.name for source in config.sources]
    return await asyncio.to_thread(_file_entries, given, names)


def _file_entries(given: str, names: list[str]) -> list[Entry]:
    path = Path(URL(given).path if given.startswith("file://") else given)
    if not path.exists():
        raise SourceError(
            f"cannot read {given}: no such file, and no source has that name"
            + suggestion(given, names)
        )
    return parse_file(path)
