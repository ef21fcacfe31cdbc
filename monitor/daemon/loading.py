"""A large configuration loaded for a reload in another process.

Loading 100,000 sources is a second of Python. In a thread beside the event loop it takes the
interpreter from the polls: on SQLite each row a query returns hands the interpreter back and
forth between threads, and a claim of a hundred due sources took a second, so the feed servers
heard nothing meanwhile (issue 25). A child process loads and checks the file on the other core
and sends the result back pickled: 11 MB, 0.15 s to unpickle here in one go. Small
configurations load in a thread, as before: a process costs more than they do.

The child must build the configuration with the daemon's own code: it sends a fingerprint of
the code it ran (every file of the package, the pydantic it used), and a daemon whose files were
upgraded on disk since it started loads in a thread instead. It also sends the ``${VAR}`` values
it substituted, which the daemon's logs must never show (monitor.core.redact)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import pickle
import sys
from pathlib import Path

import pydantic

import monitor
from monitor.config.load import load_config
from monitor.config.model import Config
from monitor.core.errors import ConfigError
from monitor.core.logs import event
from monitor.core.memory import uncollected
from monitor.core.redact import remember_secret, remembered_secrets

APART_FROM = 10_000  # sources in force from which a reload loads its file in a child process
TIMEOUT = 300.0  # seconds the child may take (a million sources take about 30)


def _fingerprint() -> str:
    """The code this process runs: each file of the package (name, size, modification time)
    and the versions of Python and pydantic."""
    root = Path(monitor.__file__).parent
    digest = hashlib.sha256(f"{sys.version} {pydantic.VERSION}".encode())
    for file in sorted(root.rglob("*")):
        if file.suffix in (".py", ".so") and file.is_file():
            found = file.stat()
            digest.update(f"{file.relative_to(root)} {found.st_size} {found.st_mtime_ns}".encode())
    return digest.hexdigest()


CODE = _fingerprint()  # as imported at start: the files may change on disk later


class LoadFailed(Exception):
    """The child process ended without a configuration or its problems (killed, too slow,
    running other code, a configuration that could not be pickled): the caller loads in a
    thread."""


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
    """:func:`load_config` run by ``python -P -m monitor.daemon.loading PATH``, in the same
    environment (its ``${VAR}``) and folder; LoadFailed when it sends nothing usable."""
    try:
        child = await asyncio.create_subprocess_exec(
            *(python, "-P", "-m", __name__, str(path)),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            process_group=0,  # a Ctrl-C at the terminal is the daemon's to handle
        )
    except OSError as exc:
        raise LoadFailed(f"cannot start {python}: {exc}") from exc
    try:
        out, err = await asyncio.wait_for(child.communicate(), TIMEOUT)
    except TimeoutError:
        raise LoadFailed(f"no answer in {TIMEOUT:g} s") from None
    finally:  # (also when the reload is cancelled: the daemon stops)
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
    if child.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["nothing said"]
        raise LoadFailed(f"status {child.returncode}: {tail[0][:500]}")
    try:
        with uncollected():  # 0.15 s rather than 0.45 with the collector's passes
            code, found, secrets = pickle.loads(out)
    except Exception as exc:  # a truncated or foreign output: anything pickle can raise
        raise LoadFailed(f"unreadable result: {exc!r}") from exc
    if code != CODE:
        raise LoadFailed("the code on disk changed since the daemon started")
    for secret in secrets:
        remember_secret(secret)
    if isinstance(found, Config):
        return found
    if isinstance(found, list) and all(isinstance(p, str) for p in found):
        raise ConfigError(found)
    raise LoadFailed(f"unexpected result: {type(found).__name__}")


def main(argv: list[str]) -> int:
    """The child: its code's fingerprint, the configuration or the list of its problems, and
    the ``${VAR}`` values substituted, pickled on stdout."""
    try:
        found: Config | list[str] = load_config(argv[0])
    except ConfigError as exc:
        found = exc.problems
    payload = (CODE, found, remembered_secrets())
    sys.stdout.buffer.write(pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
