"""Failures to connect said in words (monitor.net.responses.connect_problem): what webhook and
SMTP errors show, and what a poll records."""

from __future__ import annotations

import errno
import socket

import pytest

from monitor.net.responses import connect_problem


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 9000)"),
         "connection refused by 127.0.0.1:9000"),
        (OSError(errno.EHOSTUNREACH, "No route to host"),
         "cannot connect to 127.0.0.1:9000 (host unreachable)"),
        (OSError(errno.ENETUNREACH, "Connect call failed"),
         "cannot connect to 127.0.0.1:9000 (network unreachable)"),
        (OSError(errno.EACCES, "whatever the library said"),
         "cannot connect to 127.0.0.1:9000 (permission denied)"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
         "cannot resolve host 127.0.0.1"),
        (OSError("no errno at all"), "cannot connect to 127.0.0.1:9000 (OSError)"),
    ],
)  # fmt: skip
def test_a_failed_connection_is_said_in_words(error: OSError, said: str) -> None:
    assert connect_problem(error, "127.0.0.1", 9000) == said


def test_without_a_port_only_the_host_is_named() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    assert (
        connect_problem(refused, "mail.example.ma", None) == "connection refused by mail.example.ma"
    )
