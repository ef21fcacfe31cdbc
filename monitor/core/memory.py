"""Keeping the daemon's resident memory close to what it uses (issue 7: 10,000 sources in
150 MB). Two ways memory is held without being used, each undone once at start:

- glibc gives each thread that allocates its own arena, up to eight a core, and keeps what
  was freed in each: the database and resolver threads held tens of megabytes so. Two arenas
  are enough for a daemon whose Python code runs in one thread at a time (the common advice for
  Python and Ruby services; ``MALLOC_ARENA_MAX`` in the environment, when set, wins).
- After a burst of polls, the heap holds what their bodies and records took, freed but kept
  by malloc for the next burst: :func:`trim` gives it back once the daemon is quiet
  (:class:`Trimmer`, told by the App when each poll ends).
- Loading a configuration of thousands of sources builds a YAML tree and validation
  temporaries several times the size of the result, interleaved with it: freed, they leave the
  result scattered over memory that cannot be given back at once (the free pools are reused by
  the polls that follow). A copy made once the original was gone sat densely in memory taken
  afresh, 36 MB less at 100,000 sources, but took 1.3 s of a start that must reach its first
  poll in 5 s (issue 25): the daemon no longer makes it.

And one way time is spent for nothing: each full pass of Python's cycle collector walks every
object, the modules, configuration and compiled rules loaded at start included, though they
live as long as the daemon. :func:`freeze` takes them out of its passes once started (a cold
start of 1,000 feeds spent a sixth of its time so, and a quarter second walking them at exit);
:func:`refreeze` after a reload lets the old configuration's cycles be collected."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import math
import os
import pickle
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TypeVar, cast

T = TypeVar("T")
M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)
ARENAS = 2
QUIET = 2.0  # seconds without a poll in flight, after which the heap is trimmed
TRIM_EVERY = 10.0  # seconds between two trims, at least (one takes a few milliseconds)


@cache
def _libc(
    name: str, *argtypes: type[ctypes.c_int] | type[ctypes.c_size_t]
) -> Callable[..., int] | None:
    """The C library's function ``name`` taking ``argtypes`` and returning an int, found once;
    None without a C library to ask, or in one without it (not glibc)."""
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = list(argtypes), ctypes.c_int
    return cast(Callable[..., int], function)


def limit_arenas(count: int = ARENAS) -> bool:
    """Ask glibc for at most ``count`` arenas; False where that is not glibc's malloc or the
    environment already decides."""
    mallopt = _libc("mallopt", ctypes.c_int, ctypes.c_int)
    if os.environ.get("MALLOC_ARENA_MAX") or mallopt is None:
        return False
    return bool(mallopt(M_ARENA_MAX, count))


def trim() -> bool:
    """Give the C heap's free memory back to the operating system (glibc's malloc_trim);
    False where there is no such call."""
    malloc_trim = _libc("malloc_trim", ctypes.c_size_t)
    if malloc_trim is None:
        return False
    malloc_trim(0)
    return True


def freeze(collect: bool = True) -> None:
    """Collect what is garbage now, then leave every object left out of the cycle collector's
    future passes (``gc.freeze``). Objects still go when nothing refers to them; only those in
    reference cycles wait for :func:`refreeze`. Without ``collect``, the garbage of the start is
    frozen too: for a process that ends after one round (``run --once``), where the collection
    (a tenth of a second) would buy nothing."""
    if collect:
        gc.collect()
    gc.freeze()


def refreeze() -> None:
    """After objects kept since :func:`freeze` were let go (a reload's old configuration):
    collect them and freeze what is left. Nothing where nothing was frozen (the tests' Apps)."""
    if gc.get_freeze_count():
        gc.unfreeze()
        freeze()


@contextmanager
def uncollected() -> Iterator[None]:
    """No pass of the cycle collector inside the block: for one that makes a great many objects
    none of which is garbage in a cycle (a configuration read or unpickled), which each pass
    would walk. Its garbage waits for the next pass after. (The collector is the process's:
    a thread's block pauses it for every thread.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compact(value: T) -> T:
    """A fresh copy of ``value``, to keep instead of it once its temporaries are gone;
    ``value`` itself if it cannot be pickled (the copy only saves memory)."""
    try:
        copied: T = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (pickle.PickleError, TypeError, AttributeError):
        return value
    return copied


class Trimmer:
    """Trims the heap once no poll has been in flight for QUIET seconds, at most every
    TRIM_EVERY seconds (a trim put off runs when allowed). A poll or two a second never leaves
    the daemon quiet: no trim then. ``busy`` says whether a poll is in flight."""

    def __init__(self, busy: Callable[[], bool], trimming: Callable[[], bool] = trim) -> None:
        self.busy = busy
        self.trimming = trimming
        self._timer: asyncio.TimerHandle | None = None
        self._trimmed = -math.inf  # monotonic time of the last trim
        self._ended = -math.inf  # monotonic time the last poll ended

    def poll_ended(self) -> None:
        self._ended = time.monotonic()
        if not self.busy() and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(QUIET, self._rest)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _rest(self) -> None:
        self._timer = None
        if self.busy():
            return
        now = time.monotonic()
        wait = max(self._ended + QUIET, self._trimmed + TRIM_EVERY) - now
        if wait > 0:
            self._timer = asyncio.get_running_loop().call_later(wait, self._rest)
            return
        self._trimmed = now
        self.trimming()
