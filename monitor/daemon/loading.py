"""A large configuration loaded for a reload in another process.

Loading 100,000 sources is a second of Python. In a thread beside the event loop it takes the
interpreter from the polls: on SQLite each row a query returns hands the interpreter back and
forth between threads, and a claim of a hundred due sources took a second, so the feed servers
heard nothing meanwhile (issue 25). A child process loads and checks the file on the other core
and sends the result back pickled: 11 MB, 0.15 s to unpickle here in one go. Small
configurations load in a thread, as before: a process costs more than they do."""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
from pathlib import Path

from monitor.config.load import load_config
from monitor.config.model import Config
from monitor.core.errors import ConfigError
from monitor.core.logs import event
from monitor.core.memory import uncollected

APART_FROM = 10_000  # sources in force from which a reload loads its file in a child process


class LoadFailed(Exception):
    """The child process ended without a configuration or its problems (killed, out of
    memory, a configuration that could not be pickled): the caller loads in a thread."""


async def load(path: Path, sources_in_force: int, python: str = sys.executable) -> Config:
    """The configuration at ``path``, loaded apart (by ``python``) when the one in force has
    many sources; ConfigError with its problems, like :func:`load_config`."""
    if sources_in_force >= APART_FROM:
        try:
            return await load_apart(path, python)
        except LoadFailed as exc:  # (the thread finds the same configuration, or its errors)
            event("reload-load-apart-failed", level=logging.WARNING, error=str(exc))
    return await asyncio.to_thread(load_config, path)


async def load_apart(path: Path, python: str = sys.executable) -> Config:
    """:func:`load_config` run by ``python -m monitor.daemon.loading PATH``, in the same
    environment (its ``${VAR}``) and folder; LoadFailed when it sends nothing usable."""
    try:
        child = await asyncio.create_subprocess_exec(
            python,
            "-m",
            __name__,
            str(path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise LoadFailed(f"cannot start {python}: {exc}") from exc
    out, err = await child.communicate()
    if child.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["nothing said"]
        raise LoadFailed(f"status {child.returncode}: {tail[0]}")
    try:
        with uncollected():  # 0.15 s rather than 0.45 with the collector's passes
            found = pickle.loads(out)
    except Exception as exc:  # a truncated or foreign output: anything pickle can raise
        raise LoadFailed(f"unreadable result: {exc!r}") from exc
    if isinstance(found, Config):
        return found
    if isinstance(found, list) and all(isinstance(p, str) for p in found):
        raise ConfigError(found)
    raise LoadFailed(f"unexpected result: {type(found).__name__}")


def main(argv: list[str]) -> int:
    """The child: the configuration, or the list of its problems, pickled on stdout."""
    try:
        found: Config | list[str] = load_config(argv[0])
    except ConfigError as exc:
        found = exc.problems
    sys.stdout.buffer.write(pickle.dumps(found, pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
