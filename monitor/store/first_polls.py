"""When the sources new to the store are first polled (``SourceStore.sync``).

A handful of new sources (up to AT_ONCE: an edit of the configuration, a first start of an
ordinary one) are due at once. A bulk of them (a 100,000-line ``sources_file`` on a new store,
or thousands added by one reload) would otherwise all be due at the same instant: every one a
first poll, with every item new to parse, match and store, at the daemon's full speed, and each
kept in step with the others ever after (a poll is due an interval after the last). So a bulk's
first polls are spread over ``count / FIRST_POLLS_A_SECOND`` seconds, at most the source's
interval, each source at its own offset in that window from a hash of its name: the same on
every replica and at every start, and evenly spread whatever the names.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

AT_ONCE = 100  # new sources polled at once (about the polls a daemon has in flight)
FIRST_POLLS_A_SECOND = 50.0  # a bulk's first polls, at most, on average


def spread_window(count: int, interval: timedelta) -> timedelta:
    """The span over which ``count`` new sources polled every ``interval`` are first polled."""
    if count <= AT_ONCE:
        return timedelta(0)
    return min(interval, timedelta(seconds=count / FIRST_POLLS_A_SECOND))


def first_due(name: str, now: datetime, window: timedelta) -> datetime:
    """When the new source ``name`` is first polled: ``now`` plus its share of ``window``."""
    if not window:
        return now
    share = zlib.crc32(name.encode()) / 2**32
    # whole milliseconds: the stores keep microseconds, a stable value compares equal anywhere
    return now + timedelta(milliseconds=int(window.total_seconds() * 1000 * share))
