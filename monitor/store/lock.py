"""One daemon per SQLite file: a second one would poll and send everything twice."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.core.errors import StoreError


def sqlite_path(storage: str) -> Path | None:
    if not storage.startswith("sqlite:///"):
        return None
    path = storage.removeprefix("sqlite:///")
    return None if path in ("", ":memory:") else Path(path)


@contextmanager
def single_instance(storage: str) -> Iterator[None]:
    """Hold an exclusive lock beside a SQLite database for as long as the daemon runs.

    The lock belongs to the process, so a daemon killed with -9 releases it at once."""
    path = sqlite_path(storage)
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise StoreError(
                f"another monitor (pid {holder}) is already running on {path}; "
                "stop it first: one daemon per database"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
