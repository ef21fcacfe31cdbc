"""The parse worker process: imports the parsers once, caps its own address space, then
serves one parse at a time over the socket its parent passed it (see monitor.sources.parser).

Frames, both ways, are an 8-byte big-endian length and a pickle:
    worker -> parent  ("ready",) once started
    parent -> worker  (kind, fetched, max_items, source, fetched_at)
    worker -> parent  ("ok", kept, total, shared_guids, rows, follow, feeds, hub)
                      | ("parse-error", message)
                      | ("error", message) | ("memory",), after which the worker exits with
                      OUT_OF_MEMORY
The worker normalizes what it parsed (monitor.sources.normalize: plain text, links, identity), which
is CPU work the daemon's event loop would otherwise do. Items travel as plain tuples of their
fields, without the source (cheaper to pickle than slotted dataclasses); the feed's WebSub hub
as (hub, topic), or None.
"""

from __future__ import annotations

import contextlib
import pickle
import resource
import signal
import socket
import struct
import sys
from datetime import datetime

from monitor.core.errors import ParseError
from monitor.core.models import Fetched
from monitor.sources.base import SourceKind
from monitor.sources.normalize import normalize

HEADER = struct.Struct("!Q")
OUT_OF_MEMORY = 3  # exit status when the cap was hit (the reply may not have got through)
MAIN = "from monitor.sources.worker import main; main()"  # run as: python -c MAIN FD MEMORY


def _read_exactly(sock: socket.socket, size: int) -> bytearray | None:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        count = sock.recv_into(view[got:])
        if count == 0:
            return None  # the parent closed its end (or died): time to go
        got += count
    return buffer


def _send(sock: socket.socket, message: object) -> None:
    payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
    sock.sendall(HEADER.pack(len(payload)) + payload)


def _job(
    kind: SourceKind, fetched: Fetched, max_items: int, source: str, fetched_at: datetime
) -> tuple[object, ...]:
    try:
        parsed = kind.parse(fetched, max_items)
    except ParseError as exc:
        return ("parse-error", str(exc))
    items, shared = normalize(source, parsed.entries, fetched_at)
    rows = [(i.key, i.link, i.title, i.summary, i.content, i.published) for i in items]
    hub = (parsed.hub.hub, parsed.hub.topic) if parsed.hub is not None else None
    return ("ok", len(parsed.entries), parsed.total, shared, rows, parsed.follow, parsed.feeds, hub)


def main() -> None:
    """Entry point of the worker process: ``python -c MAIN FD MEMORY``."""
    fd, memory = int(sys.argv[1]), int(sys.argv[2])
    raise SystemExit(serve(socket.socket(fileno=fd), memory))


def serve(sock: socket.socket, memory: int) -> int:
    """The worker's main loop: one request in, one reply out, until the parent goes away.
    Returns the exit status: 0, or OUT_OF_MEMORY when the cap was hit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the daemon, which stops us
    # the fast paths and their lxml, which the daemon itself does not import
    import monitor.sources.fast  # noqa: F401

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    with sock:
        try:
            _send(sock, ("ready",))
            return _serve(sock)
        except OSError:
            return 0  # the daemon went away (or closed us before we were ready)


def _serve(sock: socket.socket) -> int:
    while (header := _read_exactly(sock, HEADER.size)) is not None:
        try:
            request = _read_exactly(sock, HEADER.unpack(header)[0])
            if request is None:
                return 0
            job = pickle.loads(request)
            del request
            reply = _job(*job)
        except (MemoryError, SystemError):
            # at the cap, an allocation that fails deep in C code can surface as SystemError
            # ("error return without exception set": not even the MemoryError could be made)
            reply = None
        except OSError:
            raise
        except Exception as exc:  # a parser bug must not look like a dead worker
            reply = ("error", f"parser failed: {type(exc).__name__}")
        try:
            if reply is None:
                with contextlib.suppress(MemoryError):
                    _send(sock, ("memory",))
                return OUT_OF_MEMORY  # a heap that hit the cap is not reused
            _send(sock, reply)
        except MemoryError:
            return OUT_OF_MEMORY
    return 0
