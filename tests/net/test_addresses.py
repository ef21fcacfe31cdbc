"""What ``monitor check`` can tell of a URL the guard will refuse, without asking DNS."""

from __future__ import annotations

import ipaddress

import pytest

from monitor.net.addresses import Network, refused_url

LOOPBACK: list[Network] = [ipaddress.ip_network("127.0.0.0/8")]
BOTH: list[Network] = [*LOOPBACK, ipaddress.ip_network("::1/128")]


@pytest.mark.parametrize(
    ("url", "allow", "refused"),
    [
        ("http://127.0.0.1:9000/hook", [], ("127.0.0.1", ["127.0.0.0/8"])),
        ("http://127.0.0.1:9000/hook", LOOPBACK, None),
        ("http://10.1.2.3/feed", LOOPBACK, ("10.1.2.3", ["10.1.2.3/32"])),
        ("http://169.254.169.254/latest", [], ("169.254.169.254", ["169.254.169.254/32"])),
        ("http://[::1]:8080/", LOOPBACK, ("::1", ["::1/128"])),
        ("http://[fd00::5]/feed", [ipaddress.ip_network("fd00::/8")], None),
        ("http://[::ffff:192.168.1.1]/", [], ("::ffff:192.168.1.1", ["192.168.1.1/32"])),
        # a loopback name leads to 127.0.0.1 and, on most systems, to ::1: both must be listed
        ("http://localhost:8000/feed", [], ("localhost", ["127.0.0.0/8", "::1/128"])),
        ("http://LOCALHOST./feed", LOOPBACK, ("localhost", ["::1/128"])),
        ("http://app.localhost/feed", BOTH, None),
        # public addresses, and names only DNS could judge, are not warned of
        ("https://8.8.8.8/feed", [], None),
        ("https://leseco.ma/feed/", [], None),
        ("https://intranet.example.com/feed", [], None),
    ],
)
def test_refused_urls_are_found_from_the_url_alone(
    url: str, allow: list[Network], refused: tuple[str, list[str]] | None
) -> None:
    assert refused_url(url, allow) == refused
