"""A failed connection said as a person would say it: ``connection refused by 127.0.0.1:9000``,
``no answer from hooks.example.com within 30 s``, ``name hooks.example.com not found``,
``TLS certificate of x.example not trusted (…)``; never a library's class name.

The one place where the exceptions of the socket layer, of aiohttp (feeds, webhooks) and of
aiosmtplib (email) become words. Each wraps the operating system's error its own way, so the
whole chain of causes is read. Only the host and port are named: a URL's path, query or
userinfo may hold a token.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
from collections.abc import Iterator

import aiohttp


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the exceptions it wraps, outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, aiohttp.ClientConnectorError):  # it keeps its cause here too
            wrapped: BaseException | None = current.os_error
            if wrapped is not None and id(wrapped) not in seen:
                yield wrapped
                seen.add(id(wrapped))
        current = current.__cause__ or current.__context__


def one_line(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, anything unprintable made a space: a server's or a
    library's words, fit for a message."""
    return "".join(c if c.isprintable() else " " for c in text)[:limit]


def in_words(
    exc: BaseException, host: str, port: int | None = None, timeout: float | None = None
) -> str | None:
    """What ``exc`` says of a connection to ``host`` (``port``; within ``timeout`` seconds),
    in words; None when it is not a connection failure this knows."""
    where = f"{host}:{port}" if port is not None else host
    chain = list(_chain(exc))

    def found(kind: type[BaseException] | tuple[type[BaseException], ...]) -> BaseException | None:
        return next((cause for cause in chain if isinstance(cause, kind)), None)

    # the most telling first, whatever wraps what: a refused certificate is an OSError too
    certificate = [cause for cause in chain if isinstance(cause, ssl.SSLCertVerificationError)]
    if certificate:  # (aiohttp's error is one too: the innermost, ssl's own, says why)
        cert = certificate[-1]
        reason = one_line(getattr(cert, "verify_message", None) or cert.reason or "", 120)
        return f"TLS certificate of {host} not trusted" + (f" ({reason})" if reason else "")
    if found((socket.gaierror, aiohttp.ClientConnectorDNSError)):
        return f"name {host} not found"
    if found(ConnectionRefusedError):
        return f"connection refused by {where}"
    if (tls := found((ssl.SSLError, aiohttp.ClientSSLError))) is not None:
        why = one_line(str(getattr(tls, "reason", None) or ""), 120)
        return f"TLS handshake with {where} failed" + (f" ({why})" if why else "")
    if found(TimeoutError):
        return f"no answer from {host} " + (f"within {timeout:g} s" if timeout else "in time")
    if found((ConnectionResetError, aiohttp.ServerDisconnectedError)):
        return f"{host} closed the connection before answering"
    for cause in reversed(chain):  # the operating system's own words, innermost
        if isinstance(cause, OSError) and (cause.errno or cause.strerror):
            return f"cannot connect to {where} ({one_line(_os_words(cause), 120)})"
    return None


# what a person says of the usual ways a connection fails (not "Connect call failed (…)",
# which asyncio puts in strerror whatever the errno)
_ERRNO_WORDS = {
    errno.ECONNRESET: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connection timed out",
    errno.EADDRNOTAVAIL: "address not available",
}


def _os_words(error: OSError) -> str:
    if error.errno:
        return _ERRNO_WORDS.get(error.errno) or os.strerror(error.errno).lower()
    return (error.strerror or type(error).__name__).lower()
