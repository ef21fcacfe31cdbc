"""What ``monitor check`` can tell of a URL the guard will refuse, without asking DNS."""

from __future__ import annotations

import ipaddress

import pytest

from monitor.net.addresses import Network, refused_url, refused_urls

LOOPBACK: list[Network] = [ipaddress.ip_network("127.0.0.0/8")]
BOTH: list[Network] = [*LOOPBACK, ipaddress.ip_network("::1/128")]


CASES = [
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
    # spelled in ways urlsplit reads (credentials, case, a port, a space it strips)
    ("HTTP://user:pw@10.0.0.1:81?q=1", [], ("10.0.0.1", ["10.0.0.1/32"])),
    ("http://10.0.0.1#top", [], ("10.0.0.1", ["10.0.0.1/32"])),
    ("  http://10.0.0.2/a", [], ("10.0.0.2", ["10.0.0.2/32"])),
    ("http://10.0.\t0.3/a", [], ("10.0.0.3", ["10.0.0.3/32"])),
    ("http://[::1/", [], None),  # urlsplit refuses it: nothing to say
    ("http://٣.0.0.1/", [], None),  # digits of another script: a name to ipaddress
]


@pytest.mark.parametrize(("url", "allow", "refused"), CASES)
def test_refused_urls_are_found_from_the_url_alone(
    url: str, allow: list[Network], refused: tuple[str, list[str]] | None
) -> None:
    assert refused_url(url, allow) == refused


def test_urls_judged_together_as_each_alone() -> None:
    for allow in ([], LOOPBACK):
        urls = [(i, url) for i, (url, *_) in enumerate(CASES)]
        urls += [(-1, "http://127.0.0.1:9000/a"), (-2, "http://127.0.0.1:9000?b")]
        expected = [(i, *refused) for i, url in urls if (refused := refused_url(url, allow))]
        assert list(refused_urls(urls, allow)) == expected
        assert len(expected) > 2  # (each list holds some)


def test_one_host_is_judged_once() -> None:
    urls = [(i, f"http://10.9.8.7:8999/feed/{i}") for i in range(1000)]
    found = list(refused_urls(urls, []))
    assert [who for who, *_ in found] == list(range(1000))
    assert {(host, tuple(networks)) for _, host, networks in found} == {
        ("10.9.8.7", ("10.9.8.7/32",))
    }
