"""The event loop's share of the interpreter while a thread computes (a reload's loading and
comparing of 100,000 sources, a second or two of Python).

A thread holding the GIL gives it up when another thread asks, after the switch interval (5 ms
by default). The event loop gives it up at every socket call and asks again when the call
returns, so it waits up to that interval each time: during a reload the polls, a dozen socket
calls and store round trips each, fell from 111 to 7 a second and the feed server heard nothing
for over a second (issue 25). A 1 ms interval lets them go on at two thirds of their rate."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

LOOP_FIRST = 0.001  # seconds: the switch interval while a thread computes beside the loop


@contextmanager
def loop_first(interval: float = LOOP_FIRST) -> Iterator[None]:
    """A shorter switch interval (never a longer one) inside the block; the previous one after
    it. The setting is the process's: for blocks the loop runs, one at a time."""
    was = sys.getswitchinterval()
    sys.setswitchinterval(min(was, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(was)
