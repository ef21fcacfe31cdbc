"""``monitor password``: the argon2id hash line of a password, for ``http.app.users``.

The password is read on stdin: from a terminal without echo, asked twice; from a pipe, its first
line. Only the hash is printed: it can go into the configuration (or an environment variable
the configuration names) as it is."""

from __future__ import annotations

import getpass
import sys


def _read() -> str | None:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            print("monitor password: the two passwords differ", file=sys.stderr)
            return None
        return first
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


def password_command() -> int:
    from argon2 import PasswordHasher  # argon2id with the library's (RFC 9106) parameters

    try:
        password = _read()
    except (EOFError, KeyboardInterrupt):
        return 130
    if password is None:
        return 1
    if not password:
        print("monitor password: the password is empty", file=sys.stderr)
        return 1
    print(PasswordHasher().hash(password))
    return 0
