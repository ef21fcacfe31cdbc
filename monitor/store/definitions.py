"""Source definitions kept in the store (``sources_from: store``, issue 25): ``monitor sources
load`` writes a sources file's into the ``sources`` table, batch by batch; each replica reads
those of the sources it claims, never the whole table. The table, not a replica's
configuration, then says which sources exist."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.config.sources import SourceConfig
from monitor.config.stored import definition
from monitor.store import chunks, ignoring, reading, transaction
from monitor.store.among import one_of
from monitor.store.sources import AFRESH
from monitor.store.statistics import Growth
from monitor.store.tables import source_tags, sources

# sources written per transaction: a load of a million is a few thousand short transactions,
# none holding the table for long, and a load cut short is finished by the next one
BATCH = 2000
# names read per statement when looking for those the file no longer has (keyset paging)
PAGE = 5000
SHOWN = 20  # names listed per kind of change; the rest are counted
LONGEST_TAG = 200  # characters: a longer tag is not in source_tags (never found by a filter)
TAGS_SHOWN = 500  # distinct tags listed at the most (the web app's tag list)
Defined = tuple[SourceConfig, str]  # a source and its definition's text

_POLLED = and_(sources.c.removed_at.is_(None), sources.c.gone_at.is_(None))  # (as sources')
# a definition whose source is the same (its config_key): the new settings, nothing restarts
_DEFINE = (
    update(sources)
    .where(sources.c.name == bindparam("p_name"))
    .values(definition=bindparam("p_definition"), removed_at=None)
)
# another source under the same name: it starts afresh, as SourceStore.sync does it (its seen
# items stay, so nothing is alerted twice)
_RESTART = AFRESH.values(definition=bindparam("p_definition"), removed_at=None)


@dataclass
class Changes:
    """What a load did, by kind: the first SHOWN names of each, and how many."""

    shown: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    # the file changed between its check and its load: nothing removed (load_batches)
    stopped: bool = False

    def add(self, kind: str, names: Iterable[str]) -> None:
        names = list(names)
        self.counts[kind] = self.counts.get(kind, 0) + len(names)
        kept = self.shown.setdefault(kind, [])
        kept += names[: SHOWN - len(kept)]

    def written(self) -> int:
        """Rows the load wrote so far: every kind but the unchanged."""
        return sum(count for kind, count in self.counts.items() if kind != "unchanged")


@dataclass(frozen=True, slots=True)
class Stored:
    """A source's row as a replica reads it: its definition (None: not written by a load)."""

    config_key: str
    definition: str | None


class Definitions:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load(self, given: Sequence[SourceConfig], now: datetime) -> Changes:
        """:meth:`load_batches` of sources all at hand (no value written with a variable)."""
        return await self.load_batches([[(source, definition(source)) for source in given]], now)

    async def load_batches(
        self,
        batches: Iterable[Sequence[Defined]],
        now: datetime,
        unchanged: Callable[[int], bool] | None = None,
        first_due: Callable[[SourceConfig, datetime], datetime] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Changes:
        """Make the table hold exactly the sources of ``batches`` (checked already, read a
        batch at a time, each source with the definition text to keep: its ``${VAR}`` values
        unexpanded, monitor.config.stored): new ones added (due at ``first_due`` of each and
        the time its batch is written, read from ``clock``, else ``now``), those whose
        ``config_key`` changed started afresh, others given their new settings, and once
        every batch is written those absent marked removed (not polled; their items stay).
        Running it again with the same sources changes nothing.
        ``unchanged``, told how many sources the batches held, says whether they are still
        those checked: if not, nothing is removed (the removals would follow a file never
        checked) and the changes say so."""
        changes = Changes()
        names: set[str] = set()
        growth = Growth(self.engine, (sources, source_tags))  # the replicas plan meanwhile
        for given in batches:
            for batch in chunks(given, BATCH):
                # each batch's new sources due from when it is written (``clock``), all alike
                written = now if clock is None else clock()
                await self._load_batch(batch, now, changes, first_due, written)
                await growth.wrote(changes.written())
            names.update(source.name for source, _ in given)
        if unchanged is not None and not unchanged(len(names)):
            changes.stopped = True
            await growth.finish(changes.written())
            return changes
        await self._remove_others(names, now, changes)
        await growth.finish(changes.written())
        return changes

    async def _load_batch(
        self,
        defined: Sequence[Defined],
        now: datetime,
        changes: Changes,
        first_due: Callable[[SourceConfig, datetime], datetime] | None,
        written: datetime,
    ) -> None:
        texts = {source.name: text for source, text in defined}
        batch = [source for source, _ in defined]
        query = select(
            sources.c.name, sources.c.config_key, sources.c.definition, sources.c.removed_at
        )
        async with transaction(self.engine) as conn:
            known = {
                name: (key, text, removed)
                for name, key, text, removed in await conn.execute(
                    query.where(sources.c.name.in_(list(texts)))
                )
            }
            new, restart, define = [], [], []
            for source in batch:
                text = texts[source.name]
                if source.name not in known:
                    new.append(source)
                elif known[source.name][0] != source.config_key:
                    restart.append(source)
                elif known[source.name][1:] != (text, None):  # other settings, or back
                    define.append(source)
            rows = [
                {
                    "name": s.name,
                    "url": s.url,
                    "config_key": s.config_key,
                    "definition": texts[s.name],
                    "redirect_count": 0,
                    "error_count": 0,
                    "last_new_items": 0,
                    "last_matches": 0,
                    "next_due_at": written if first_due is None else first_due(s, written),
                }
                for s in new
            ]
            if rows:  # (executemany: SQLAlchemy batches the rows, no statement to compile each)
                await conn.execute(ignoring(self.engine.dialect.name, sources), rows)
            if restart:
                await conn.execute(
                    _RESTART,
                    [
                        {
                            "p_name": s.name,
                            "p_url": s.url,
                            "p_key": s.config_key,
                            "p_definition": texts[s.name],
                            "p_due": now,
                        }
                        for s in restart
                    ],
                )
            if define:
                await conn.execute(
                    _DEFINE, [{"p_name": s.name, "p_definition": texts[s.name]} for s in define]
                )
            await _write_tags(conn, [*new, *restart, *define])
        changes.add("added", (s.name for s in new))
        changes.add("changed", (s.name for s in restart))
        back = [s.name for s in define if known[s.name][2] is not None]
        changes.add("back", back)
        changes.add("updated", (s.name for s in define if known[s.name][2] is None))
        unchanged = len(batch) - len(new) - len(restart) - len(define)
        changes.counts["unchanged"] = changes.counts.get("unchanged", 0) + unchanged

    async def _remove_others(self, names: set[str], now: datetime, changes: Changes) -> None:
        """Mark removed the sources in the table, not removed yet, that ``names`` lacks: read
        page by page in name order, so no statement reads the whole table."""
        after = ""
        while page := await self.names(after):
            after = page[-1]
            gone = [name for name in page if name not in names]
            if gone:
                async with transaction(self.engine) as conn:
                    await conn.execute(
                        update(sources).where(sources.c.name.in_(gone)).values(removed_at=now)
                    )
                changes.add("removed", gone)

    async def tagged(self, tag: str) -> list[str]:
        """The names of the sources (not removed) whose definition has ``tag``, read by the
        index of source_tags (every one: the callers bind them as one parameter)."""
        query = (
            select(source_tags.c.source)
            .join(sources, sources.c.name == source_tags.c.source)
            .where(source_tags.c.tag == tag, sources.c.removed_at.is_(None))
            .order_by(source_tags.c.source)
        )
        async with reading(self.engine) as conn:
            return list((await conn.execute(query)).scalars())

    async def tags(self, limit: int = TAGS_SHOWN) -> list[str]:
        """The tags the stored definitions have, in order, the first ``limit`` (read from the
        index; a removed source's are kept until a load writes it again)."""
        query = select(source_tags.c.tag).distinct().order_by(source_tags.c.tag).limit(limit)
        async with reading(self.engine) as conn:
            return list((await conn.execute(query)).scalars())

    async def read(self, names: Sequence[str], polled: bool = False) -> dict[str, Stored]:
        """The stored definitions of ``names`` that the table has and has not removed (with
        ``polled``, not gone either: what the daemon polls and takes pushes for), one
        statement per CHUNK of them: a replica reads those it claimed, nothing more. A removed
        source's row keeps its definition (it comes back with it), so the filter is here."""
        found: dict[str, Stored] = {}
        query = select(sources.c.name, sources.c.config_key, sources.c.definition).where(
            _POLLED if polled else sources.c.removed_at.is_(None)
        )
        async with reading(self.engine) as conn:
            for chunk in chunks(names):
                rows = await conn.execute(query.where(sources.c.name.in_(list(chunk))))
                found.update((name, Stored(key, text)) for name, key, text in rows)
        return found

    async def new_among(self, names: Iterable[str]) -> int:
        """How many of ``names`` the table does not hold yet (removed ones it does)."""
        wanted, held = sorted(names), 0
        async with reading(self.engine) as conn:
            for chunk in chunks(wanted, PAGE):
                query = select(func.count()).select_from(sources)
                held += int(await conn.scalar(query.where(one_of(sources.c.name, chunk))) or 0)
        return len(wanted) - held

    async def names(self, after: str = "", limit: int = PAGE) -> list[str]:
        """A page of the polled sources' names (not removed), in name order, after
        ``after``: what a caller needing all of them reads, page by page."""
        query = (
            select(sources.c.name)
            .where(sources.c.removed_at.is_(None), sources.c.name > after)
            .order_by(sources.c.name)
            .limit(limit)
        )
        async with reading(self.engine) as conn:
            return list((await conn.execute(query)).scalars())


async def _write_tags(conn: AsyncConnection, given: Sequence[SourceConfig]) -> None:
    """The tags of sources a load wrote, in place of those they had."""
    if not given:
        return
    await conn.execute(delete(source_tags).where(source_tags.c.source.in_([s.name for s in given])))
    rows = [
        {"source": source.name, "tag": tag}
        for source in given
        for tag in dict.fromkeys(source.tags)
        if len(tag) <= LONGEST_TAG
    ]
    if rows:
        await conn.execute(insert(source_tags), rows)
