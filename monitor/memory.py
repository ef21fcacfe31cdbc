"""Keeping the daemon's resident memory close to what it uses (issue 7: 10,000 sources in
150 MB). Two ways memory is held without being used, each undone once at start:

- glibc gives each thread that allocates its own arena, up to eight a core, and keeps what
  was freed in each: the database and resolver threads held tens of megabytes so. Two arenas
  are enough for a daemon whose Python code runs in one thread at a time (the common advice for
  Python and Ruby services; ``MALLOC_ARENA_MAX`` in the environment, when set, wins).
- After a burst of polls, the heap holds what their bodies and records took, freed but kept
  by malloc for the next burst: :func:`trim` gives it back once the daemon is quiet (the
  App calls it when no poll has been in flight for a moment, at most once a minute).
- Loading a configuration of thousands of sources builds a YAML tree and validation
  temporaries several times the size of the result, interleaved with it: freed, they leave the
  result scattered over memory that cannot be given back. A copy made afterwards sits densely
  in few pages, and the scattered pages are freed with the original."""

from __future__ import annotations

import ctypes
import os
import pickle
from collections.abc import Callable
from functools import cache
from typing import TypeVar, cast

T = TypeVar("T")
M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)
ARENAS = 2


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


def compact(value: T) -> T:
    """A fresh copy of ``value``, to keep instead of it once its temporaries are gone;
    ``value`` itself if it cannot be pickled (the copy only saves memory)."""
    try:
        copied: T = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (pickle.PickleError, TypeError, AttributeError):
        return value
    return copied
