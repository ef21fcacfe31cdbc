"""The daemon's end of one parse worker (:mod:`monitor.sources.worker` runs in the child): the
process, a non-blocking socket, and length-prefixed pickled messages over it."""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import socket
import subprocess
import sys
from typing import Any

from monitor.sources.worker import HEADER, MAIN

MB = 1024 * 1024
MAX_REPLY = 1024 * MB  # a reply larger than this is a broken worker, not a feed
START_TIMEOUT = 60.0  # seconds a new worker may take to import the parsers
STOP_TIMEOUT = 2.0  # seconds an idle worker gets to exit on its own at close


class WorkerProcess:
    """One worker process and the daemon's end of its socket."""

    def __init__(self, memory: int) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", MAIN, str(theirs.fileno()), str(memory)],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout may carry console digests; stderr is kept
                # a group of its own: a Ctrl-C at the terminal, which signals the whole
                # foreground group, is the daemon's to handle (it stops us), even while we
                # start, before the worker can ignore SIGINT
                process_group=0,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()  # the child has its own copy; ours must go for EOF to work
        ours.setblocking(False)
        self.sock = ours
        self.ready = False
        self.used = 0.0  # loop time it last finished a parse

    def alive(self) -> bool:
        return self.process.poll() is None

    async def _read(self, size: int) -> bytearray:
        loop = asyncio.get_running_loop()
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            count = await loop.sock_recv_into(self.sock, view[got:])
            if count == 0:
                raise EOFError
            got += count
        return buffer

    async def receive(self) -> tuple[Any, ...]:
        (size,) = HEADER.unpack(await self._read(HEADER.size))
        if size > MAX_REPLY:
            raise EOFError
        message = pickle.loads(await self._read(size))
        if not isinstance(message, tuple) or not message:
            raise EOFError
        return message

    async def send(self, message: object) -> None:
        payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(self.sock, HEADER.pack(len(payload)))
        await loop.sock_sendall(self.sock, payload)

    async def start(self) -> None:
        """Wait until the worker has imported the parsers and capped its memory."""
        if not self.ready:
            async with asyncio.timeout(START_TIMEOUT):
                if (await self.receive())[0] != "ready":
                    raise EOFError
            self.ready = True

    def death(self) -> str:
        code = self.process.poll()
        if code is not None and code < 0:
            return f"the parse worker was killed by signal {-code}"
        if code is not None:
            return f"the parse worker exited with code {code}"
        return "the parse worker stopped answering"

    async def stop(self, *, kill: bool) -> None:
        """End the process (politely when idle: EOF on its socket) and reap it."""
        self.sock.close()
        if kill:
            self.process.kill()
        try:
            await asyncio.to_thread(self.process.wait, STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)

    async def reap(self) -> None:
        """After EOF: give the process a moment to finish dying so its exit status is known."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(self.process.wait, STOP_TIMEOUT)
