"""The source definitions a replica holds in store mode (``sources_from: store``): those of
the sources it claimed lately, read from the store at each claim and kept, a bounded number,
as validated models (a definition is validated again only when its text changed)."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence

from pydantic import ValidationError

from monitor.config.sources import SourceConfig
from monitor.config.stored import from_definition
from monitor.core.logs import event
from monitor.store.definitions import PAGE, Definitions

# definitions kept: more than the sources a replica polls at once (2 x network.concurrency),
# so a source polled every few minutes is not validated again at each poll
HELD = 20_000


class StoredSources(Mapping[str, SourceConfig]):
    """A mapping of the definitions read lately (what a poll, a hub's push or a page finds by
    name); :meth:`fetch` reads those of the sources claimed."""

    def __init__(
        self,
        definitions: Definitions,
        held: int = HELD,
        polled: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.definitions = definitions
        self.held = held
        self.polled = polled  # the daemon's: gone sources left out too (not polled, no pushes)
        self.env = env  # where ``${VAR}`` values come from (the process's environment)
        self._held: OrderedDict[str, tuple[str, SourceConfig]] = OrderedDict()

    def __getitem__(self, name: str) -> SourceConfig:
        return self._held[name][1]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._held))

    def __len__(self) -> int:
        return len(self._held)

    async def fetch(self, names: Sequence[str]) -> dict[str, SourceConfig]:
        """The definitions of ``names`` as the store has them now (one statement per few
        hundred names); a name the store does not define is left out."""
        stored = await self.definitions.read(names, self.polled)
        found: dict[str, SourceConfig] = {}
        for name in names:
            row = stored.get(name)
            held = self._held.pop(name, None)
            if row is None or row.definition is None:
                continue  # removed (or gone, for the daemon), or never loaded (a configuration's)
            if held is None or held[0] != row.definition:
                try:
                    held = (row.definition, from_definition(row.definition, self.env))
                except (ValidationError, ValueError) as exc:  # written by another version
                    event("definition-invalid", level=logging.ERROR, source=name, error=str(exc))
                    continue
            self._held[name] = held
            found[name] = held[1]
        while len(self._held) > self.held:
            self._held.popitem(last=False)  # the least recently claimed
        return found


class Unexpanded(Mapping[str, str]):
    """An environment that has every variable, as written (``${VAR}``): for what shows
    sources (``monitor status``), run where the daemons' secrets are not set."""

    def __getitem__(self, name: str) -> str:
        return f"${{{name}}}"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


async def stored_pages(definitions: Definitions) -> AsyncIterator[list[SourceConfig]]:
    """Every source the store defines (not removed), a page at a time in name order: what a
    command listing them all reads, never the whole table at once."""
    held = StoredSources(definitions, held=PAGE)
    after = ""
    while names := await definitions.names(after):
        after = names[-1]
        found = await held.fetch(names)
        yield [found[name] for name in names if name in found]


async def definitions_of(
    sources: Mapping[str, SourceConfig], names: Sequence[str]
) -> dict[str, SourceConfig]:
    """The definitions of ``names`` in force: read from the store in store mode, else those
    of the configuration (``sources``)."""
    if isinstance(sources, StoredSources):
        return await sources.fetch(names)
    return {name: sources[name] for name in names if name in sources}


class SourceTags:
    """Each source's tags in store mode, for rules scoped by ``tags`` matched outside the
    daemon (``test-rule --backtest``, the web app's rule trial): read from the definitions
    of the sources a chunk of items came from, a bounded number kept. Only the tags are read
    from a definition (no validation, no ``${VAR}`` expanded: a secret is not needed here)."""

    def __init__(self, definitions: Definitions, held: int = HELD) -> None:
        self.definitions = definitions
        self.held = held
        self._held: OrderedDict[str, tuple[str, ...]] = OrderedDict()

    async def of(self, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The tags of ``names`` (none for a source the store does not define, or removed):
        those not held read in one statement per few hundred names."""
        wanted = list(dict.fromkeys(names))
        missing = [name for name in wanted if name not in self._held]
        if missing:
            stored = await self.definitions.read(missing)
            for name in missing:
                row = stored.get(name)
                self._held[name] = _tags(row.definition if row is not None else None)
        found = {}
        for name in wanted:
            self._held.move_to_end(name)
            found[name] = self._held[name]
        while len(self._held) > max(self.held, len(wanted)):
            self._held.popitem(last=False)  # the least recently asked
        return found


async def kinds_of(definitions: Definitions, names: Sequence[str]) -> dict[str, str]:
    """The kind of each of ``names`` the store defines (a page's sources: one statement per
    few hundred names), read from the definitions without validating them."""
    found = {}
    for name, row in (await definitions.read(names)).items():
        try:
            kind = json.loads(row.definition or "{}").get("kind")
        except (ValueError, AttributeError):
            continue
        if isinstance(kind, str):
            found[name] = kind
    return found


def _tags(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    try:
        tags = json.loads(text).get("tags", [])
    except (ValueError, AttributeError):
        return ()
    return tuple(tag for tag in tags if isinstance(tag, str)) if isinstance(tags, list) else ()
