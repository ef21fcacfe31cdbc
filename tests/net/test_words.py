"""Failures to connect said in words (monitor.net.words.in_words): what webhook, SMTP and feed
errors show, whatever wraps the operating system's error."""

from __future__ import annotations

import errno
import socket
import ssl

import pytest

from monitor.net.words import in_words


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 9000)"),
         "connection refused by 127.0.0.1:9000"),
        (OSError(errno.EHOSTUNREACH, "Connect call failed"),
         "cannot connect to 127.0.0.1:9000 (host unreachable)"),
        (OSError(errno.ENETUNREACH, "Connect call failed"),
         "cannot connect to 127.0.0.1:9000 (network unreachable)"),
        (OSError(errno.EACCES, "whatever the library said"),
         "cannot connect to 127.0.0.1:9000 (permission denied)"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
         "name 127.0.0.1 not found"),
        (TimeoutError(), "no answer from 127.0.0.1 within 30 s"),
        (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
         "TLS handshake with 127.0.0.1:9000 failed"),
    ],
)  # fmt: skip
def test_a_failed_connection_is_said_in_words(error: OSError, said: str) -> None:
    assert in_words(error, "127.0.0.1", 9000, timeout=30) == said


def test_the_cause_a_library_wraps_is_found() -> None:
    wrapper = RuntimeError("SMTPConnectError: Error connecting to 127.0.0.1 on port 9000")
    wrapper.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    assert in_words(wrapper, "127.0.0.1", 9000) == "connection refused by 127.0.0.1:9000"


def test_without_a_port_only_the_host_is_named() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "refused")
    assert in_words(refused, "mail.example.ma") == "connection refused by mail.example.ma"


def test_what_is_not_a_connection_failure_is_left_to_the_caller() -> None:
    assert in_words(ValueError("bad"), "127.0.0.1", 9000) is None
