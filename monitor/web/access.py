"""Who may sign in to the web app: the users of ``http.app`` and their argon2id hashes.

Verifying costs argon2's time (about 0.1 s), in a thread so the server keeps answering. A name
that is not configured is verified against a dummy hash of the same cost, so the answer and its
timing never tell whether a name exists. Five wrong passwords for a name within a minute (named
or not) refuse that name for a minute (:class:`Throttle`)."""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ATTEMPTS = 5  # wrong passwords for a name within WINDOW …
WINDOW = timedelta(minutes=1)
PAUSE = timedelta(minutes=1)  # … refuse that name this long
TRACKED = 10_000  # names remembered at most (the oldest forgotten first): memory stays bounded
MAX_NAME = 100  # a configured name is no longer (http.app.users): a longer one is not tracked


class Verdict(Enum):
    OK = "ok"
    WRONG = "wrong"  # no such name, or a wrong password: never said which
    THROTTLED = "throttled"


class Throttle:
    """Recent wrong passwords per name, on the server's clock."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def blocked(self, name: str) -> bool:
        failures = self._failures.get(name)
        if failures is None or len(failures) < ATTEMPTS:
            return False
        return self.clock() < failures[-1] + PAUSE

    def failed(self, name: str) -> None:
        now = self.clock()
        failures = self._failures.pop(name, None) or deque(maxlen=ATTEMPTS)
        while failures and now - failures[0] > WINDOW:
            failures.popleft()
        failures.append(now)
        self._failures[name] = failures  # the most recent last
        while len(self._failures) > TRACKED:
            self._failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        self._failures.pop(name, None)


class Access:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.hasher = PasswordHasher()
        self.throttle = Throttle(clock)
        self._dummy: str | None = None

    async def _dummy_hash(self) -> str:
        if self._dummy is None:  # once, at the first login: a hash of the same cost
            self._dummy = await asyncio.to_thread(self.hasher.hash, secrets.token_hex(16))
        return self._dummy

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    async def check(self, users: Mapping[str, str], name: str, password: str) -> Verdict:
        """Whether ``name`` (a key of ``users``, name -> hash) signs in with ``password``."""
        if len(name) > MAX_NAME:  # no such user; not remembered either (memory stays bounded)
            await asyncio.to_thread(self._verify, await self._dummy_hash(), password)
            return Verdict.WRONG
        if self.throttle.blocked(name):
            return Verdict.THROTTLED
        hashed = users.get(name)
        known = hashed is not None
        good = await asyncio.to_thread(
            self._verify, hashed if hashed is not None else await self._dummy_hash(), password
        )
        if known and good:
            self.throttle.succeeded(name)
            return Verdict.OK
        self.throttle.failed(name)
        return Verdict.WRONG
